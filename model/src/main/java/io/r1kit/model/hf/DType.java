package io.r1kit.model.hf;

import java.util.Locale;

/**
 * Element types of the safetensors format, with their size in bytes. Every type named by the
 * spec is recognised so that any valid file opens; the floating-point ones (F32, BF16, F16, F64,
 * and the FP8 codes F8_E4M3/F8_E5M2 widened without their scales) can be loaded as {@code float[]},
 * and the integer/bool ones as {@code long[]}.
 */
public enum DType {
    F64(8, true), F32(4, true), F16(2, true), BF16(2, true),
    F8_E4M3(1, true), F8_E5M2(1, true),
    I64(8, false), I32(4, false), I16(2, false), I8(1, false),
    U64(8, false), U32(4, false), U16(2, false), U8(1, false),
    BOOL(1, false);

    private final int byteSize;
    private final boolean widenableToFloat;

    DType(int byteSize, boolean widenableToFloat) {
        this.byteSize = byteSize;
        this.widenableToFloat = widenableToFloat;
    }

    /** Bytes per element. */
    public int byteSize() {
        return byteSize;
    }

    /** True when {@link SafetensorsReader#loadFloats} can convert this type to float32. */
    public boolean isFloatLoadable() {
        return widenableToFloat;
    }

    /** True for the integer and bool types, loadable with {@link SafetensorsReader#loadLongs}. */
    public boolean isIntegerLoadable() {
        return switch (this) {
            case I64, I32, I16, I8, U32, U16, U8, BOOL -> true;
            default -> false; // U64 may not fit a signed long; F8 are floats
        };
    }

    /** The dtype named in a safetensors header, or null when the name is not one of the spec's. */
    public static DType fromHeaderName(String name) {
        if (name == null) return null;
        for (DType d : values()) {
            if (d.name().equals(name)) return d;
        }
        return null;
    }

    /** The name written in the header (the enum name, e.g. "BF16"). */
    public String headerName() {
        return name();
    }

    /** The torch_dtype string transformers writes into config.json for this type. */
    public String torchDtypeName() {
        return switch (this) {
            case F32 -> "float32";
            case BF16 -> "bfloat16";
            case F16 -> "float16";
            case F64 -> "float64";
            case F8_E4M3 -> "float8_e4m3fn";
            case F8_E5M2 -> "float8_e5m2";
            default -> name().toLowerCase(Locale.ROOT);
        };
    }
}
