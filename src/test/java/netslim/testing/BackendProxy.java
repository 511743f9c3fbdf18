package netslim.testing;

import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.lang.reflect.Proxy;

import netslim.backend.Backend;

/**
 * A {@link Backend} that sends every call to a handler first and, unless the handler answers it, on to a target
 * backend — for tests that fake one behaviour (a buggy kernel, a device that captures graphs) or count calls.
 */
public final class BackendProxy {
    /** What a handler returns to pass the call on to the target. */
    public static final Object DELEGATE = new Object();

    /** Answers one call (its return value), or returns {@link #DELEGATE}. */
    @FunctionalInterface
    public interface Handler {
        Object handle(Method method, Object[] args) throws Throwable;
    }

    private BackendProxy() {
    }

    public static Backend wrap(Backend target, Handler handler) {
        return (Backend) Proxy.newProxyInstance(Backend.class.getClassLoader(), new Class<?>[] {Backend.class},
                (proxy, method, args) -> {
                    Object answer = handler.handle(method, args);
                    if (answer != DELEGATE) return answer;
                    try {
                        return method.invoke(target, args);
                    } catch (InvocationTargetException e) {
                        throw e.getCause();
                    }
                });
    }
}
