package io.r1kit.data;

/** Bad dataset input: the message names the file (and line, where there is one) and what was expected. */
public class DatasetException extends RuntimeException {
    public DatasetException(String message) {
        super(message);
    }

    public DatasetException(String message, Throwable cause) {
        super(message, cause);
    }
}
