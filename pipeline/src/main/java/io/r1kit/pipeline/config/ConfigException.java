package io.r1kit.pipeline.config;

/** A configuration error found before any work starts. The message is meant for the user as is. */
public class ConfigException extends RuntimeException {
    public ConfigException(String message) {
        super(message);
    }

    public ConfigException(String message, Throwable cause) {
        super(message, cause);
    }
}
