package netslim.data;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;

import org.junit.jupiter.api.function.Executable;

import netslim.NetslimException;

/** Assertions on user errors: a NetslimException with one line that names the file and says what is wrong. */
final class Errors {
    private Errors() {
    }

    static NetslimException assertNamesFile(Path file, String says, Executable action) {
        NetslimException e = assertThrows(NetslimException.class, action);
        String m = e.getMessage();
        assertTrue(m.contains(file.toString()), "message should name " + file + ": " + m);
        assertTrue(m.contains(says), "message should say '" + says + "': " + m);
        assertFalse(m.contains("\n"), "message should be one line: " + m);
        return e;
    }
}
