package io.r1kit.model.tokenizer;

import com.hubspot.jinjava.interpret.JinjavaInterpreter;
import com.hubspot.jinjava.lib.filter.Filter;
import java.lang.reflect.Array;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.util.Map;
import java.util.TreeMap;

/**
 * Python's {@code json.dumps} output format, which the transformers {@code tojson} filter uses
 * ({@code ensure_ascii=False}, separators {@code ", "} and {@code ": "}, or {@code ","} with an
 * indent). Jinjava's own tojson is compact Jackson output, which would change the rendered prompt.
 */
final class PyJson {

    private PyJson() {}

    static String dumps(Object value, Integer indent, boolean sortKeys) {
        StringBuilder sb = new StringBuilder();
        write(sb, value, indent, sortKeys, 0);
        return sb.toString();
    }

    private static void write(StringBuilder sb, Object v, Integer indent, boolean sortKeys, int level) {
        if (v == null) {
            sb.append("null");
        } else if (v instanceof Boolean b) {
            sb.append(b ? "true" : "false");
        } else if (v instanceof Integer || v instanceof Long || v instanceof Short || v instanceof Byte || v instanceof BigInteger) {
            sb.append(v);
        } else if (v instanceof Number n) {
            sb.append(pyFloat(n instanceof BigDecimal bd ? bd.doubleValue() : n.doubleValue()));
        } else if (v instanceof CharSequence s) {
            string(sb, s.toString());
        } else if (v instanceof Map<?, ?> m) {
            Map<?, ?> map = sortKeys ? new TreeMap<>(m) : m;
            if (map.isEmpty()) {
                sb.append("{}");
                return;
            }
            sb.append('{');
            boolean first = true;
            for (Map.Entry<?, ?> e : map.entrySet()) {
                if (!first) sb.append(indent == null ? ", " : ",");
                first = false;
                newline(sb, indent, level + 1);
                string(sb, String.valueOf(e.getKey()));
                sb.append(": ");
                write(sb, e.getValue(), indent, sortKeys, level + 1);
            }
            newline(sb, indent, level);
            sb.append('}');
        } else if (v instanceof Iterable<?> it) {
            sb.append('[');
            boolean first = true;
            for (Object o : it) {
                if (!first) sb.append(indent == null ? ", " : ",");
                first = false;
                newline(sb, indent, level + 1);
                write(sb, o, indent, sortKeys, level + 1);
            }
            if (!first) newline(sb, indent, level);
            sb.append(']');
        } else if (v.getClass().isArray()) {
            java.util.List<Object> l = new java.util.ArrayList<>();
            for (int i = 0; i < Array.getLength(v); i++) l.add(Array.get(v, i));
            write(sb, l, indent, sortKeys, level);
        } else {
            string(sb, v.toString());
        }
    }

    private static void newline(StringBuilder sb, Integer indent, int level) {
        if (indent == null) return;
        sb.append('\n');
        sb.append(" ".repeat(indent * level));
    }

    private static void string(StringBuilder sb, String s) {
        sb.append('"');
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '"' -> sb.append("\\\"");
                case '\\' -> sb.append("\\\\");
                case '\n' -> sb.append("\\n");
                case '\r' -> sb.append("\\r");
                case '\t' -> sb.append("\\t");
                case '\b' -> sb.append("\\b");
                case '\f' -> sb.append("\\f");
                default -> {
                    if (c < 0x20) sb.append(String.format("\\u%04x", (int) c));
                    else sb.append(c);
                }
            }
        }
        sb.append('"');
    }

    /** Python float repr: shortest round-trip digits, exponent form below 1e-4 or from 1e16. */
    static String pyFloat(double d) {
        if (Double.isNaN(d)) return "NaN";
        if (Double.isInfinite(d)) return d > 0 ? "Infinity" : "-Infinity";
        if (d == 0) return (1 / d < 0) ? "-0.0" : "0.0";
        BigDecimal bd = new BigDecimal(Double.toString(d)).stripTrailingZeros(); // Java's shortest repr digits
        String digits = bd.unscaledValue().abs().toString();
        int exp = digits.length() - 1 - bd.scale(); // decimal exponent of the first digit
        String sign = d < 0 ? "-" : "";
        if (exp < -4 || exp >= 16) {
            String mant = digits.length() == 1 ? digits : digits.charAt(0) + "." + digits.substring(1);
            return sign + mant + "e" + (exp < 0 ? "-" : "+") + (Math.abs(exp) < 10 ? "0" : "") + Math.abs(exp);
        }
        if (exp >= digits.length() - 1) { // integer-valued
            return sign + digits + "0".repeat(exp - (digits.length() - 1)) + ".0";
        }
        if (exp >= 0) return sign + digits.substring(0, exp + 1) + "." + digits.substring(exp + 1);
        return sign + "0." + "0".repeat(-exp - 1) + digits;
    }

    /** The {@code tojson} filter with transformers' keyword arguments (indent, sort_keys). */
    static final class ToJsonFilter implements Filter {
        @Override
        public String getName() {
            return "tojson";
        }

        @Override
        public Object filter(Object var, JinjavaInterpreter interpreter, String... args) {
            Integer indent = args.length > 0 && args[0] != null ? Integer.valueOf(args[0]) : null;
            return dumps(var, indent, false);
        }

        @Override
        public Object filter(Object var, JinjavaInterpreter interpreter, Object[] args, Map<String, Object> kwargs) {
            Object ind = kwargs.containsKey("indent") ? kwargs.get("indent") : (args.length > 0 ? args[0] : null);
            Integer indent = ind instanceof Number n ? n.intValue() : null;
            boolean sort = Boolean.TRUE.equals(kwargs.get("sort_keys"));
            return dumps(var, indent, sort);
        }
    }
}
