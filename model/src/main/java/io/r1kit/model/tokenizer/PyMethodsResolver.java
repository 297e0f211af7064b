package io.r1kit.model.tokenizer;

import java.beans.FeatureDescriptor;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import jinjava.javax.el.ELContext;
import jinjava.javax.el.ELResolver;

/**
 * Gives strings and dicts the Python methods chat templates call ({@code content.startswith(..)},
 * {@code .split('</think>')}, {@code .strip('\n')}, {@code d.get(k, default)}...). Jinjava only
 * knows Java methods, and some share a name with different meaning ({@code String.split} takes a
 * regex, so {@code '<|im_end|>'} would split on every character). Placed first in the resolver
 * chain, so Python semantics win; anything else falls through to Jinjava's resolvers.
 */
final class PyMethodsResolver extends ELResolver {

    @Override
    public Object invoke(ELContext context, Object base, Object method, Class<?>[] paramTypes, Object[] params) {
        if (base == null || method == null) return null;
        String name = method.toString();
        Object[] args = params == null ? new Object[0] : params;
        Object result;
        if (base instanceof CharSequence cs) {
            result = stringMethod(cs.toString(), name, args);
        } else if (base instanceof Map<?, ?> m) {
            result = mapMethod(m, name, args);
        } else {
            return null;
        }
        if (result == NOT_HANDLED) return null;
        context.setPropertyResolved(true);
        return result;
    }

    private static final Object NOT_HANDLED = new Object();

    private static Object stringMethod(String s, String name, Object[] a) {
        return switch (name) {
            case "startswith" -> a.length >= 1 ? anyAffix(s, a[0], true) : NOT_HANDLED;
            case "endswith" -> a.length >= 1 ? anyAffix(s, a[0], false) : NOT_HANDLED;
            case "strip" -> strip(s, arg(a, 0), true, true);
            case "lstrip" -> strip(s, arg(a, 0), true, false);
            case "rstrip" -> strip(s, arg(a, 0), false, true);
            case "split" -> split(s, arg(a, 0), a.length > 1 ? ((Number) a[1]).intValue() : -1);
            case "rsplit" -> rsplit(s, arg(a, 0), a.length > 1 ? ((Number) a[1]).intValue() : -1);
            case "upper" -> s.toUpperCase(java.util.Locale.ROOT);
            case "lower" -> s.toLowerCase(java.util.Locale.ROOT);
            case "title" -> title(s);
            case "capitalize" -> s.isEmpty() ? s : s.substring(0, 1).toUpperCase(java.util.Locale.ROOT) + s.substring(1).toLowerCase(java.util.Locale.ROOT);
            case "replace" -> a.length >= 2 ? replace(s, str(a[0]), str(a[1]), a.length > 2 ? ((Number) a[2]).intValue() : -1) : NOT_HANDLED;
            case "find" -> a.length >= 1 ? (long) s.indexOf(str(a[0])) : NOT_HANDLED;
            case "rfind" -> a.length >= 1 ? (long) s.lastIndexOf(str(a[0])) : NOT_HANDLED;
            case "count" -> a.length >= 1 ? count(s, str(a[0])) : NOT_HANDLED;
            case "join" -> a.length >= 1 ? join(s, a[0]) : NOT_HANDLED;
            case "splitlines" -> splitlines(s);
            case "isdigit" -> !s.isEmpty() && s.chars().allMatch(Character::isDigit);
            case "isalpha" -> !s.isEmpty() && s.chars().allMatch(Character::isLetter);
            case "isalnum" -> !s.isEmpty() && s.chars().allMatch(Character::isLetterOrDigit);
            case "isspace" -> !s.isEmpty() && s.chars().allMatch(PyMethodsResolver::isPyWhitespace);
            case "isupper" -> s.chars().anyMatch(Character::isLetter) && s.equals(s.toUpperCase(java.util.Locale.ROOT));
            case "islower" -> s.chars().anyMatch(Character::isLetter) && s.equals(s.toLowerCase(java.util.Locale.ROOT));
            default -> NOT_HANDLED;
        };
    }

    private static Object mapMethod(Map<?, ?> m, String name, Object[] a) {
        return switch (name) {
            case "get" -> a.length == 0 ? NOT_HANDLED : (m.containsKey(a[0]) ? m.get(a[0]) : (a.length > 1 ? a[1] : null));
            case "keys" -> new ArrayList<>(m.keySet());
            case "values" -> new ArrayList<>(m.values());
            case "items" -> {
                List<List<Object>> items = new ArrayList<>();
                for (Map.Entry<?, ?> e : m.entrySet()) items.add(java.util.Arrays.asList(e.getKey(), e.getValue()));
                yield items;
            }
            default -> NOT_HANDLED;
        };
    }

    private static String arg(Object[] a, int i) {
        return i < a.length && a[i] != null ? a[i].toString() : null;
    }

    private static String str(Object o) {
        return o == null ? "None" : o.toString();
    }

    private static boolean anyAffix(String s, Object affix, boolean prefix) {
        if (affix instanceof Collection<?> c) {
            for (Object o : c) if (prefix ? s.startsWith(str(o)) : s.endsWith(str(o))) return true;
            return false;
        }
        return prefix ? s.startsWith(str(affix)) : s.endsWith(str(affix));
    }

    static boolean isPyWhitespace(int c) {
        return Character.isWhitespace(c) || Character.isSpaceChar(c) || c == 0x1C || c == 0x1D || c == 0x1E || c == 0x1F || c == 0x85;
    }

    static String strip(String s, String chars, boolean left, boolean right) {
        int b = 0, e = s.length();
        if (left) while (b < e && stripped(s.charAt(b), chars)) b++;
        if (right) while (e > b && stripped(s.charAt(e - 1), chars)) e--;
        return s.substring(b, e);
    }

    private static boolean stripped(char c, String chars) {
        return chars == null ? isPyWhitespace(c) : chars.indexOf(c) >= 0;
    }

    static List<String> split(String s, String sep, int maxsplit) {
        List<String> out = new ArrayList<>();
        if (sep == null) { // runs of whitespace, no empty strings
            int i = 0, n = s.length();
            while (i < n) {
                while (i < n && isPyWhitespace(s.charAt(i))) i++;
                if (i >= n) break;
                if (maxsplit >= 0 && out.size() == maxsplit) {
                    out.add(strip(s.substring(i), null, false, true));
                    return out;
                }
                int j = i;
                while (j < n && !isPyWhitespace(s.charAt(j))) j++;
                out.add(s.substring(i, j));
                i = j;
            }
            return out;
        }
        if (sep.isEmpty()) throw new IllegalArgumentException("empty separator");
        int from = 0;
        while (maxsplit < 0 || out.size() < maxsplit) {
            int k = s.indexOf(sep, from);
            if (k < 0) break;
            out.add(s.substring(from, k));
            from = k + sep.length();
        }
        out.add(s.substring(from));
        return out;
    }

    static List<String> rsplit(String s, String sep, int maxsplit) {
        if (maxsplit < 0 || sep == null) return split(s, sep, maxsplit);
        if (sep.isEmpty()) throw new IllegalArgumentException("empty separator");
        List<String> out = new ArrayList<>();
        int end = s.length();
        while (out.size() < maxsplit) {
            int k = s.lastIndexOf(sep, end - sep.length());
            if (k < 0) break;
            out.add(0, s.substring(k + sep.length(), end));
            end = k;
        }
        out.add(0, s.substring(0, end));
        return out;
    }

    static List<String> splitlines(String s) {
        List<String> out = new ArrayList<>();
        int start = 0;
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c == '\n' || c == '\r') {
                out.add(s.substring(start, i));
                if (c == '\r' && i + 1 < s.length() && s.charAt(i + 1) == '\n') i++;
                start = i + 1;
            }
        }
        if (start < s.length()) out.add(s.substring(start));
        return out;
    }

    private static String replace(String s, String old, String neu, int count) {
        if (count < 0) return s.replace(old, neu);
        StringBuilder sb = new StringBuilder();
        int from = 0, done = 0;
        while (done < count) {
            int k = s.indexOf(old, from);
            if (k < 0) break;
            sb.append(s, from, k).append(neu);
            from = k + old.length();
            done++;
            if (old.isEmpty()) {
                if (from < s.length()) sb.append(s.charAt(from));
                from++;
            }
        }
        if (from <= s.length()) sb.append(s.substring(Math.min(from, s.length())));
        return sb.toString();
    }

    private static long count(String s, String sub) {
        if (sub.isEmpty()) return s.length() + 1;
        long c = 0;
        for (int k = s.indexOf(sub); k >= 0; k = s.indexOf(sub, k + sub.length())) c++;
        return c;
    }

    private static String join(String sep, Object items) {
        StringBuilder sb = new StringBuilder();
        boolean first = true;
        if (!(items instanceof Iterable<?> it)) throw new IllegalArgumentException("join expects a list");
        for (Object o : it) {
            if (!first) sb.append(sep);
            first = false;
            sb.append(str(o));
        }
        return sb.toString();
    }

    private static String title(String s) {
        StringBuilder sb = new StringBuilder(s.length());
        boolean prevCased = false;
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            sb.append(prevCased ? Character.toLowerCase(c) : Character.toUpperCase(c));
            prevCased = Character.isLetter(c);
        }
        return sb.toString();
    }

    // Besides method calls, only string indexing ('abc'[0], 'abc'[-1]) is handled here; all other
    // property access is left to Jinjava's resolvers.

    @Override
    public Object getValue(ELContext context, Object base, Object property) {
        if (base instanceof CharSequence cs && property != null) {
            String p = property.toString();
            if (p.matches("-?\\d{1,9}")) {
                String s = cs.toString();
                int[] cps = s.codePoints().toArray();
                int i = Integer.parseInt(p);
                if (i < 0) i += cps.length;
                context.setPropertyResolved(true);
                if (i < 0 || i >= cps.length) throw new IndexOutOfBoundsException("string index out of range: " + p);
                return new String(cps, i, 1);
            }
        }
        return null;
    }

    @Override
    public Class<?> getType(ELContext context, Object base, Object property) {
        return null;
    }

    @Override
    public void setValue(ELContext context, Object base, Object property, Object value) {}

    @Override
    public boolean isReadOnly(ELContext context, Object base, Object property) {
        return true;
    }

    @Override
    public Iterator<FeatureDescriptor> getFeatureDescriptors(ELContext context, Object base) {
        return null;
    }

    @Override
    public Class<?> getCommonPropertyType(ELContext context, Object base) {
        return null;
    }
}
