package netslim.io;

import java.io.EOFException;
import java.nio.file.AccessDeniedException;
import java.nio.file.FileSystemException;
import java.nio.file.NoSuchFileException;

import netslim.NetslimException;

/** Turns low-level I/O and parser failures into the one-line {@link NetslimException} messages users see. */
final class IoErrors {
    private IoErrors() {
    }

    /**
     * A short, single-line description of a failure for users: its message, without the stack trace or the Java
     * class name (the CLI promises messages free of "Exception"); only a failure without a message is named by its
     * class, minus the "Exception" suffix ("ZipException" becomes "Zip error").
     */
    static String describe(Throwable e) {
        if (e instanceof NoSuchFileException) return "no such file or directory";
        if (e instanceof AccessDeniedException) return "permission denied";
        if (e instanceof EOFException) return "unexpected end of data (truncated?)";
        String msg = e instanceof FileSystemException f ? f.getReason() : e.getMessage();
        if (msg != null && !msg.isBlank()) return oneLine(msg);
        String name = e.getClass().getSimpleName();
        return name.endsWith("Exception") ? name.substring(0, name.length() - "Exception".length()) + " error" : name;
    }

    static String oneLine(String s) {
        String t = s.replaceAll("\\s*[\\r\\n]+\\s*", " ").trim();
        return t.length() > 300 ? t.substring(0, 300) + "..." : t;
    }

    /**
     * Wraps an unexpected failure while reading {@code what} (a corrupt file can make a parser fail in ways we did not
     * foresee); a {@link NetslimException} passes through unchanged.
     */
    static NetslimException reading(String what, Throwable e) {
        if (e instanceof NetslimException n) {
            String clean = printable(n.getMessage());
            return clean.equals(n.getMessage()) ? n : new NetslimException(clean, n);
        }
        return new NetslimException(printable(what + ": cannot read: " + describe(e)), e);
    }

    /**
     * One printable line: names taken from a corrupt file (a node name, a dtype string) may hold line breaks or
     * control characters, which must not break the CLI's one-line message.
     */
    static String printable(String s) {
        StringBuilder b = new StringBuilder(s.length());
        s.codePoints().forEach(c -> b.appendCodePoint(Character.isISOControl(c) || !Character.isDefined(c) ? '?' : c));
        return b.toString();
    }
}
