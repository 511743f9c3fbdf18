package netslim;

/**
 * An error the user can cause (bad file, wrong shape, unsupported op, missing data, no GPU). Its message is one
 * line that names the file, layer or tensor; the CLI prints it and exits with status 2.
 */
public class NetslimException extends RuntimeException {
    public NetslimException(String message) {
        super(message);
    }

    public NetslimException(String message, Throwable cause) {
        super(message, cause);
    }
}
