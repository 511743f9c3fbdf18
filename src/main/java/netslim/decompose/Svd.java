package netslim.decompose;

import java.util.Locale;

import org.ejml.data.DMatrixRMaj;

import netslim.NetslimException;

/**
 * Thin singular value decomposition A = U·diag(s)·Vᵀ in double precision, the seam between the decomposition code and
 * the library that computes it: {@link EjmlSvd} on the CPU today; a cuSOLVER implementation can be added for
 * {@code decompose --device cuda} without touching its callers.
 */
public interface Svd {

    /**
     * The thin SVD of an m×n matrix with k = min(m, n): {@code singularValues} (length k, descending, ≥ 0),
     * {@code u} (m×k, orthonormal columns) or null when not requested, {@code v} (n×k) or null when not requested.
     */
    record Result(DMatrixRMaj u, double[] singularValues, DMatrixRMaj v) {
    }

    /** Decomposes {@code a} (left unchanged); computes U and V only when asked (they are the expensive part). */
    Result decompose(DMatrixRMaj a, boolean wantU, boolean wantV);

    /** Short name for reports ("cpu (EJML)"). */
    String name();

    /** The SVD for a device name: "cpu" only for now; anything else is a one-line {@link NetslimException}. */
    static Svd forDevice(String device) {
        String d = device == null ? "cpu" : device.toLowerCase(Locale.ROOT);
        return switch (d) {
            case "cpu" -> new EjmlSvd();
            case "cuda", "auto" -> throw new NetslimException("decompose --device " + d
                    + ": only the CPU SVD exists so far (cuSOLVER comes with the CUDA backend); use --device cpu");
            default -> throw new NetslimException("unknown --device '" + device + "' for decompose (expected cpu)");
        };
    }
}
