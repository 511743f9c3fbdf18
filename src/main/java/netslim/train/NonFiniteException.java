package netslim.train;

import netslim.NetslimException;

/** Training diverged: a NaN or an infinity in the loss or a gradient. The message names the epoch and step. */
public final class NonFiniteException extends NetslimException {
    public NonFiniteException(String message) {
        super(message);
    }
}
