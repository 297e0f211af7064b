package io.r1kit.model.tokenizer;

import com.hubspot.jinjava.objects.date.StrftimeFormatter;
import java.lang.reflect.Array;
import java.time.ZonedDateTime;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Global functions a Hugging Face chat template may call, registered into Jinjava by
 * {@link ChatTemplate}: {@code raise_exception(msg)}, {@code strftime_now(fmt)}, and the slice
 * helper {@link JinjaCompat} rewrites step slices to. Public static because Jinjava binds
 * functions by reflection.
 */
public final class PyFunctions {

    private PyFunctions() {}

    /** Thrown by {@code raise_exception}; {@link ChatTemplate} turns it into a {@link ChatTemplateException}. */
    static final class RaisedByTemplate extends RuntimeException {
        RaisedByTemplate(String message) {
            super(message);
        }
    }

    public static Object raiseException(Object message) {
        throw new RaisedByTemplate(String.valueOf(message));
    }

    /** Current local time in Python strftime format, as transformers provides it. */
    public static String strftimeNow(String format) {
        return StrftimeFormatter.format(ZonedDateTime.now(), format, Locale.US);
    }

    /**
     * What Jinja2 prints for a value: Python's {@code str()}. Booleans are {@code True}/{@code False};
     * lists and dicts use Python repr inside. Null prints as the empty string, because Jinjava cannot
     * tell an undefined variable (Jinja2 prints "") from None (Jinja2 prints "None").
     */
    public static Object str(Object v) {
        if (v == null) return "";
        if (v instanceof CharSequence) return v; // keeps SafeString and friends as they are
        if (v instanceof Boolean || v instanceof java.util.Map || v instanceof Iterable || v instanceof Number) return repr(v, true);
        return v;
    }

    private static String repr(Object v, boolean top) {
        if (v == null) return "None";
        if (v instanceof Boolean b) return b ? "True" : "False";
        if (v instanceof CharSequence cs) return top ? cs.toString() : pyQuote(cs.toString());
        if (v instanceof Double || v instanceof Float) return PyJson.pyFloat(((Number) v).doubleValue());
        if (v instanceof java.math.BigDecimal bd) return PyJson.pyFloat(bd.doubleValue());
        if (v instanceof Number) return v.toString();
        if (v instanceof java.util.Map<?, ?> m) {
            StringBuilder sb = new StringBuilder("{");
            boolean first = true;
            for (java.util.Map.Entry<?, ?> e : m.entrySet()) {
                if (!first) sb.append(", ");
                first = false;
                sb.append(repr(e.getKey(), false)).append(": ").append(repr(e.getValue(), false));
            }
            return sb.append('}').toString();
        }
        if (v instanceof Iterable<?> it) {
            StringBuilder sb = new StringBuilder("[");
            boolean first = true;
            for (Object o : it) {
                if (!first) sb.append(", ");
                first = false;
                sb.append(repr(o, false));
            }
            return sb.append(']').toString();
        }
        return top ? v.toString() : pyQuote(v.toString());
    }

    /** Python repr of a string: single quotes unless the text has one and no double quote. */
    private static String pyQuote(String s) {
        char q = s.indexOf('\'') >= 0 && s.indexOf('"') < 0 ? '"' : '\'';
        StringBuilder sb = new StringBuilder().append(q);
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c == q || c == '\\') sb.append('\\').append(c);
            else if (c == '\n') sb.append("\\n");
            else if (c == '\r') sb.append("\\r");
            else if (c == '\t') sb.append("\\t");
            else if (c < 0x20 || c == 0x7f) sb.append(String.format("\\x%02x", (int) c));
            else sb.append(c);
        }
        return sb.append(q).toString();
    }

    /** Python {@code seq[start:stop:step]} for strings and lists (None for an omitted part). */
    public static Object slice(Object seq, Object start, Object stop, Object step) {
        if (seq == null) return null;
        int st = step == null ? 1 : toInt(step, "step");
        if (st == 0) throw new IllegalArgumentException("slice step cannot be zero");
        if (seq instanceof CharSequence cs) {
            int[] cps = cs.toString().codePoints().toArray();
            int[] idx = indices(cps.length, start, stop, st);
            StringBuilder sb = new StringBuilder();
            for (int i : idx) sb.appendCodePoint(cps[i]);
            return sb.toString();
        }
        List<Object> items = new ArrayList<>();
        if (seq instanceof Iterable<?> it) {
            for (Object o : it) items.add(o);
        } else if (seq.getClass().isArray()) {
            for (int i = 0; i < Array.getLength(seq); i++) items.add(Array.get(seq, i));
        } else {
            throw new IllegalArgumentException("cannot slice a " + seq.getClass().getSimpleName());
        }
        List<Object> out = new ArrayList<>();
        for (int i : indices(items.size(), start, stop, st)) out.add(items.get(i));
        return out;
    }

    /** The positions Python's slice(start, stop, step).indices(len) visits. */
    static int[] indices(int len, Object startObj, Object stopObj, int step) {
        int start, stop;
        if (step > 0) {
            start = startObj == null ? 0 : clamp(toInt(startObj, "start"), len, 0, len);
            stop = stopObj == null ? len : clamp(toInt(stopObj, "stop"), len, 0, len);
        } else {
            start = startObj == null ? len - 1 : clamp(toInt(startObj, "start"), len, -1, len - 1);
            stop = stopObj == null ? -1 : clamp(toInt(stopObj, "stop"), len, -1, len - 1);
        }
        List<Integer> out = new ArrayList<>();
        if (step > 0) for (int i = start; i < stop; i += step) out.add(i);
        else for (int i = start; i > stop; i += step) out.add(i);
        return out.stream().mapToInt(Integer::intValue).toArray();
    }

    private static int clamp(int i, int len, int lo, int hi) {
        if (i < 0) i += len;
        return Math.max(lo, Math.min(hi, i));
    }

    private static int toInt(Object o, String what) {
        if (o instanceof Number n) return n.intValue();
        throw new IllegalArgumentException("slice " + what + " must be an integer, got " + o);
    }
}
