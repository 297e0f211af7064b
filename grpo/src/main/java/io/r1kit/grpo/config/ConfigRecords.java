package io.r1kit.grpo.config;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.json.JsonMapper;

import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;

/**
 * The one place where trainer option records meet their YAML form: snake_case keys
 * ({@code num_generations} ↔ {@code numGenerations}), unknown keys rejected, absent keys left null
 * for the record's compact constructor to default. Every config record ({@code GrpoConfig},
 * {@code SftConfig}, {@code PpoConfig}, …) binds through here, and takes its defaults ({@link #or}),
 * validation ({@link #require}), {@link #with} and {@link #toMap} from here.
 */
public final class ConfigRecords {
    private ConfigRecords() {}

    /** Mapper with the YAML conventions: snake_case keys, unknown keys rejected. */
    public static final ObjectMapper MAPPER = JsonMapper.builder()
            .propertyNamingStrategy(PropertyNamingStrategies.SNAKE_CASE)
            .enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
            .build();

    /**
     * Binds snake_case keys to a config record. A validation failure of the record (an
     * IllegalArgumentException from its constructor) surfaces with its own message, prefixed by
     * {@code label} ("grpo config: num_generations must be ≥ 2 …").
     */
    public static <T> T bind(Map<String, ?> snakeCaseValues, Class<T> type, String label) {
        try {
            return MAPPER.convertValue(snakeCaseValues, type);
        } catch (IllegalArgumentException e) {
            Throwable cause = e;
            for (Throwable c = e.getCause(); c != null; c = c.getCause()) cause = c;
            for (Throwable c = e.getCause(); c != null; c = c.getCause()) {
                if (c instanceof IllegalArgumentException) cause = c;
            }
            throw new IllegalArgumentException(label + ": " + cause.getMessage(), e);
        }
    }

    /** Every option of a config record by its snake_case name, defaults filled in. */
    @SuppressWarnings("unchecked")
    public static Map<String, Object> toMap(Object config) {
        return new LinkedHashMap<>(MAPPER.convertValue(config, Map.class));
    }

    /** The value given, or the default when the key was absent (null): for a record's compact constructor. */
    public static <T> T or(T value, T defaultValue) {
        return value == null ? defaultValue : value;
    }

    /** Validation in a record's compact constructor: fails with {@code message} (naming the option and the value) unless {@code ok}. */
    public static void require(boolean ok, String message) {
        if (!ok) throw new IllegalArgumentException(message);
    }

    /**
     * {@code config} with some snake_case keys replaced, bound and validated again like a new record
     * ({@code label} prefixes a validation failure, as in {@link #bind}).
     */
    @SuppressWarnings("unchecked")
    public static <T> T with(T config, Map<String, ?> snakeCaseOverrides, String label) {
        Map<String, Object> m = toMap(config);
        m.putAll(snakeCaseOverrides);
        return bind(m, (Class<T>) config.getClass(), label);
    }

    /** Reads an enum option case-insensitively ("dr_grpo", "dr-grpo"), naming the allowed values otherwise. */
    public static <E extends Enum<E>> E parseEnum(Class<E> type, String key, String s) {
        for (E e : type.getEnumConstants()) if (e.name().equalsIgnoreCase(s.replace('-', '_'))) return e;
        throw new IllegalArgumentException(key + ": '" + s + "' is not one of "
                + Arrays.stream(type.getEnumConstants()).map(e -> e.name().toLowerCase(Locale.ROOT)).toList());
    }
}
