package io.r1kit.pipeline.config;

import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonPointer;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonMappingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.MapperFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.exc.InvalidFormatException;
import com.fasterxml.jackson.databind.exc.InvalidTypeIdException;
import com.fasterxml.jackson.databind.exc.MismatchedInputException;
import com.fasterxml.jackson.databind.exc.UnrecognizedPropertyException;
import com.fasterxml.jackson.databind.exc.ValueInstantiationException;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.databind.node.TextNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

/**
 * Strict YAML binding for run configs: unknown keys, wrong types and bad enum values stop the run
 * before any work, with a message naming the file, line and column, the key path, what is allowed
 * and, for near misses, "did you mean".
 *
 * <p>Steps: parse the YAML into a tree while remembering where every key and value stood; apply
 * {@code --set a.b.c=value} overrides (list elements are addressed by index or by their
 * {@code name}); resolve {@code ${a.b}} references (and {@code ${env:NAME}}); bind the tree to the
 * config records with snake_case names. The resolved tree is kept so it can be saved beside the run.
 */
public final class StrictYaml {

    /**
     * The bound config, the fully resolved tree it came from, and where each key stood (JSON
     * pointer → "file:line:column" or "--set …"), so that parts bound later (stage options) still
     * get located error messages.
     */
    public record Loaded<T>(T value, JsonNode resolved, String source, Map<String, String> where) {
        /** Binds a sub-tree found at {@code pointer} (e.g. "/stages/2") with located errors. */
        public <U> U bindAt(String pointer, JsonNode node, Class<U> type) {
            return StrictYaml.bindAt(node, type, source, where, pointer);
        }

        /** The location of a pointer (or its nearest recorded ancestor), for messages. */
        public String locate(String pointer) {
            String p = pointer;
            while (true) {
                String loc = where.get(p);
                if (loc != null) return loc;
                if (p.isEmpty()) return source;
                p = p.substring(0, Math.max(0, p.lastIndexOf('/')));
            }
        }
    }

    private static final Pattern REF = Pattern.compile("\\$\\{([^}]+)}");

    /** Mapper used for binding: snake_case keys, strict about unknown keys and types. */
    public static final ObjectMapper BINDER = JsonMapper.builder()
            .propertyNamingStrategy(PropertyNamingStrategies.SNAKE_CASE)
            .enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
            .enable(DeserializationFeature.FAIL_ON_NULL_FOR_PRIMITIVES)
            .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
            .enable(MapperFeature.ACCEPT_CASE_INSENSITIVE_ENUMS)
            .disable(MapperFeature.ALLOW_COERCION_OF_SCALARS)
            .build();

    /** Mapper for reading and writing YAML text (no binding rules of its own). */
    public static final YAMLMapper YAML = new YAMLMapper();

    private StrictYaml() {}

    public static <T> Loaded<T> load(Path file, Class<T> type, List<String> overrides) {
        String text;
        try {
            text = Files.readString(file);
        } catch (NoSuchFileException e) {
            throw new ConfigException("config file not found: " + file);
        } catch (IOException e) {
            throw new ConfigException("cannot read config file " + file + ": " + e.getMessage(), e);
        }
        return load(text, file.toString(), type, overrides);
    }

    public static <T> Loaded<T> load(String text, String source, Class<T> type, List<String> overrides) {
        Map<String, String> where = new HashMap<>();
        JsonNode tree = parse(text, source, where);
        if (!tree.isObject()) throw new ConfigException(source + ": the top level must be a mapping of keys");
        for (String o : overrides) applyOverride((ObjectNode) tree, o, where);
        JsonNode resolved = resolveReferences(tree, tree, source, new LinkedHashSet<>());
        try {
            return new Loaded<>(BINDER.treeToValue(resolved, type), resolved, source, where);
        } catch (JsonProcessingException e) {
            throw explain(e, source, where, "");
        } catch (IllegalArgumentException e) {
            throw new ConfigException(source + ": " + e.getMessage(), e);
        }
    }

    /**
     * Binds a sub-tree (e.g. one stage's options, found at JSON pointer {@code pointer} of the
     * file) to a record, with the same located error messages.
     */
    public static <T> T bindAt(JsonNode node, Class<T> type, String source, Map<String, String> where, String pointer) {
        try {
            return BINDER.treeToValue(node, type);
        } catch (JsonProcessingException e) {
            throw explain(e, source, where, pointer);
        } catch (IllegalArgumentException e) {
            throw new ConfigException(locateIn(where, source, pointer) + ": " + e.getMessage(), e);
        }
    }

    private static String locateIn(Map<String, String> where, String source, String pointer) {
        return new Loaded<>(null, null, source, where).locate(pointer);
    }

    // ------------------------------------------------------------------ parsing with locations

    private static JsonNode parse(String text, String source, Map<String, String> where) {
        // A key written twice in one mapping would otherwise be accepted silently, the last value winning.
        Map<String, Integer> keyLines = new HashMap<>();
        try (JsonParser p = new YAMLFactory().createParser(text)) {
            JsonToken t;
            while ((t = p.nextToken()) != null) {
                if (t == JsonToken.FIELD_NAME || t.isScalarValue() || t.isStructStart()) {
                    JsonPointer ptr = p.getParsingContext().pathAsPointer();
                    JsonLocation loc = p.currentTokenLocation();
                    if (t == JsonToken.FIELD_NAME) {
                        Integer first = keyLines.putIfAbsent(ptr.toString(), loc.getLineNr());
                        if (first != null) {
                            throw new ConfigException(source + ":" + loc.getLineNr() + ": key '" + p.currentName()
                                    + "' (" + ptr + ") is written twice, on lines " + first + " and " + loc.getLineNr()
                                    + "; keep one");
                        }
                    }
                    where.putIfAbsent(ptr.toString(), source + ":" + loc.getLineNr() + ":" + loc.getColumnNr());
                }
            }
        } catch (IOException e) {
            throw new ConfigException(source + ": not valid YAML: " + e.getMessage(), e);
        }
        try {
            JsonNode tree = YAML.readTree(text);
            return tree == null ? YAML.createObjectNode() : tree;
        } catch (IOException e) {
            throw new ConfigException(source + ": not valid YAML: " + e.getMessage(), e);
        }
    }

    // ------------------------------------------------------------------ --set overrides

    /**
     * Applies {@code a.b.c=value}. The value is read as YAML, so numbers, booleans, lists
     * ({@code [1,2]}) and mappings work. A list element is addressed by index or by the value of
     * its {@code name} key ({@code stages.r1_zero.beta=0.04}).
     */
    static void applyOverride(ObjectNode root, String override, Map<String, String> where) {
        int eq = override.indexOf('=');
        if (eq <= 0) throw new ConfigException("--set " + override + ": expected KEY.PATH=VALUE");
        String path = override.substring(0, eq).trim();
        JsonNode value;
        try {
            value = YAML.readTree(override.substring(eq + 1));
            if (value == null || value.isMissingNode()) value = YAML.nullNode();
        } catch (IOException e) {
            throw new ConfigException("--set " + override + ": the value is not valid YAML: " + e.getMessage());
        }
        String[] parts = path.split("\\.");
        JsonNode node = root;
        StringBuilder pointer = new StringBuilder();
        for (int i = 0; i < parts.length; i++) {
            String part = parts[i];
            boolean last = i == parts.length - 1;
            if (node instanceof ObjectNode obj) {
                pointer.append('/').append(part);
                if (last) {
                    obj.set(part, value);
                } else {
                    JsonNode next = obj.get(part);
                    if (next == null || next.isNull()) {
                        next = obj.putObject(part);
                    }
                    node = next;
                }
            } else if (node instanceof ArrayNode arr) {
                int index = indexOf(arr, part, path);
                pointer.append('/').append(index);
                if (last) arr.set(index, value);
                else node = arr.get(index);
            } else {
                throw new ConfigException("--set " + override + ": '" + String.join(".", Arrays.copyOf(parts, i))
                        + "' is a single value, it has no key '" + part + "'");
            }
        }
        where.put(pointer.toString(), "--set " + override);
    }

    private static int indexOf(ArrayNode arr, String part, String path) {
        if (part.matches("\\d+")) {
            int index = Integer.parseInt(part);
            if (index >= arr.size()) {
                throw new ConfigException("--set " + path + ": index " + index + " is past the end of a list of " + arr.size());
            }
            return index;
        }
        List<String> names = new ArrayList<>();
        for (int k = 0; k < arr.size(); k++) {
            JsonNode name = arr.get(k).get("name");
            if (name != null && name.isTextual()) {
                if (name.asText().equals(part)) return k;
                names.add(name.asText());
            }
        }
        String hint = DidYouMean.suggest(part, names).map(s -> " Did you mean '" + s + "'?").orElse("");
        throw new ConfigException("--set " + path + ": no list element named '" + part + "' (names: " + names + ")." + hint);
    }

    // ------------------------------------------------------------------ ${...} references

    private static JsonNode resolveReferences(JsonNode node, JsonNode root, String source, Set<String> active) {
        if (node.isTextual()) {
            String s = node.asText();
            Matcher m = REF.matcher(s);
            if (!m.find()) return node;
            if (m.start() == 0 && m.end() == s.length()) {
                return lookup(m.group(1), root, source, active); // whole value: keep the referenced type
            }
            m.reset();
            StringBuilder out = new StringBuilder();
            while (m.find()) {
                JsonNode v = lookup(m.group(1), root, source, active);
                m.appendReplacement(out, Matcher.quoteReplacement(v.isValueNode() ? v.asText() : v.toString()));
            }
            m.appendTail(out);
            return TextNode.valueOf(out.toString());
        }
        if (node.isObject()) {
            ObjectNode copy = YAML.createObjectNode();
            node.fields().forEachRemaining(e -> copy.set(e.getKey(), resolveReferences(e.getValue(), root, source, active)));
            return copy;
        }
        if (node.isArray()) {
            ArrayNode copy = YAML.createArrayNode();
            node.forEach(e -> copy.add(resolveReferences(e, root, source, active)));
            return copy;
        }
        return node;
    }

    private static JsonNode lookup(String ref, JsonNode root, String source, Set<String> active) {
        if (ref.startsWith("env:")) {
            String name = ref.substring(4);
            String v = System.getenv(name);
            if (v == null) throw new ConfigException(source + ": ${" + ref + "}: environment variable " + name + " is not set");
            return TextNode.valueOf(v);
        }
        if (!active.add(ref)) throw new ConfigException(source + ": ${" + ref + "} refers to itself (cycle: " + active + ")");
        JsonNode node = root;
        for (String part : ref.split("\\.")) {
            if (node.isArray()) {
                JsonNode found = null;
                if (part.matches("\\d+")) found = node.get(Integer.parseInt(part));
                else for (JsonNode e : node) if (e.has("name") && part.equals(e.get("name").asText())) found = e;
                node = found;
            } else {
                node = node.get(part);
            }
            if (node == null) throw new ConfigException(source + ": ${" + ref + "}: no such key in the config");
        }
        JsonNode out = resolveReferences(node, root, source, active);
        active.remove(ref);
        return out;
    }

    // ------------------------------------------------------------------ error messages

    static ConfigException explain(JsonProcessingException e, String source, Map<String, String> where, String prefix) {
        if (!(e instanceof JsonMappingException jm)) {
            return new ConfigException(source + ": " + e.getOriginalMessage(), e);
        }
        List<JsonMappingException.Reference> path = jm.getPath();
        String display = displayPrefix(prefix) + displayPath(path);
        if (display.startsWith(".")) display = display.substring(1);
        String at = locate(prefix, path, source, where);
        String msg;
        if (e instanceof UnrecognizedPropertyException u) {
            List<String> known = u.getKnownPropertyIds() == null ? List.of()
                    : u.getKnownPropertyIds().stream().map(Object::toString).sorted().toList();
            String hint = DidYouMean.suggest(u.getPropertyName(), known).map(s -> " Did you mean '" + s + "'?").orElse("");
            msg = "unknown key '" + display + "'." + hint + " Allowed here: " + String.join(", ", known);
        } else if (e instanceof InvalidTypeIdException t) {
            msg = "'" + display + "': unknown type '" + t.getTypeId() + "'. " + t.getOriginalMessage();
        } else if (e instanceof InvalidFormatException f && f.getTargetType() != null && f.getTargetType().isEnum()) {
            List<String> allowed = Arrays.stream(f.getTargetType().getEnumConstants())
                    .map(c -> c.toString().toLowerCase()).toList();
            String hint = DidYouMean.suggest(String.valueOf(f.getValue()), allowed).map(s -> " Did you mean '" + s + "'?").orElse("");
            msg = "'" + display + "' is '" + f.getValue() + "'; allowed: " + String.join(", ", allowed) + "." + hint;
        } else if (e instanceof InvalidFormatException f) {
            msg = "'" + display + "' is '" + f.getValue() + "'; expected " + describe(f.getTargetType());
        } else if (e instanceof ValueInstantiationException v) {
            Throwable cause = v.getCause() != null ? v.getCause() : v;
            msg = (display.isEmpty() ? "" : "'" + display + "': ") + cause.getMessage();
        } else if (e instanceof MismatchedInputException m) {
            String detail = firstLine(m.getOriginalMessage());
            msg = "'" + display + "': expected " + describe(m.getTargetType())
                    + (detail.startsWith("Cannot coerce") ? "" : " (" + detail + ")");
        } else {
            msg = (display.isEmpty() ? "" : "'" + display + "': ") + firstLine(jm.getOriginalMessage());
        }
        return new ConfigException(at + ": " + msg, e);
    }

    private static String firstLine(String s) {
        if (s == null) return "";
        int nl = s.indexOf('\n');
        return nl < 0 ? s : s.substring(0, nl);
    }

    private static String describe(Class<?> type) {
        if (type == null) return "another kind of value";
        if (type == int.class || type == Integer.class || type == long.class || type == Long.class) return "a whole number";
        if (type == double.class || type == Double.class || type == float.class || type == Float.class) return "a number";
        if (type == boolean.class || type == Boolean.class) return "true or false";
        if (type == String.class) return "a string";
        if (List.class.isAssignableFrom(type) || type.isArray()) return "a list";
        if (Map.class.isAssignableFrom(type) || type.isRecord()) return "a mapping of keys";
        if (type.isEnum()) return "one of " + Arrays.stream(type.getEnumConstants()).map(c -> c.toString().toLowerCase()).collect(Collectors.joining(", "));
        return "a " + type.getSimpleName();
    }

    static String displayPath(List<JsonMappingException.Reference> path) {
        StringBuilder sb = new StringBuilder();
        for (JsonMappingException.Reference r : path) {
            if (r.getFieldName() != null) {
                if (!sb.isEmpty()) sb.append('.');
                sb.append(r.getFieldName());
            } else if (r.getIndex() >= 0) {
                sb.append('[').append(r.getIndex()).append(']');
            }
        }
        return sb.toString();
    }

    /** "/stages/2" → "stages[2]" so messages show the full key path of a sub-tree. */
    private static String displayPrefix(String pointer) {
        StringBuilder sb = new StringBuilder();
        for (String part : pointer.split("/")) {
            if (part.isEmpty()) continue;
            if (part.matches("\\d+")) sb.append('[').append(part).append(']');
            else sb.append(sb.isEmpty() ? "" : ".").append(part);
        }
        return sb.isEmpty() ? "" : sb + ".";
    }

    /** The nearest recorded location of the path (or of its closest ancestor). */
    private static String locate(String prefix, List<JsonMappingException.Reference> path, String source,
                                 Map<String, String> where) {
        List<String> parts = new ArrayList<>();
        for (String part : prefix.split("/")) if (!part.isEmpty()) parts.add(part);
        for (JsonMappingException.Reference r : path) {
            if (r.getFieldName() != null) parts.add(r.getFieldName().replace("~", "~0").replace("/", "~1"));
            else if (r.getIndex() >= 0) parts.add(Integer.toString(r.getIndex()));
        }
        for (int n = parts.size(); n >= 0; n--) {
            String ptr = n == 0 ? "" : "/" + String.join("/", parts.subList(0, n));
            String loc = where.get(ptr);
            if (loc != null) return loc;
        }
        return source;
    }
}
