package netslim.testing;

import java.util.HashMap;
import java.util.Map;

/** Runs a test body with JVM switches set (e.g. {@code netslim.winograd}), then puts each back as it was. */
public final class SystemProperties {
    private SystemProperties() {
    }

    /** Sets every key of {@code values}, runs body, and restores each key's previous value (or its absence). */
    public static void with(Map<String, String> values, Runnable body) {
        Map<String, String> before = new HashMap<>();
        for (String key : values.keySet()) before.put(key, System.getProperty(key));
        values.forEach(System::setProperty);
        try {
            body.run();
        } finally {
            before.forEach((key, value) -> {
                if (value == null) System.clearProperty(key);
                else System.setProperty(key, value);
            });
        }
    }
}
