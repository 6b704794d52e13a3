package io.kmsemu.junit;

/** kmsemu could not be found, did not start or did not stop cleanly, or its scenario lacks what was asked for. */
public class KmsemuException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public KmsemuException(String message) {
        super(message);
    }

    public KmsemuException(String message, Throwable cause) {
        super(message, cause);
    }
}
