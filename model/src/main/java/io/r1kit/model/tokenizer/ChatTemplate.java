package io.r1kit.model.tokenizer;

import com.hubspot.jinjava.Jinjava;
import com.hubspot.jinjava.JinjavaConfig;
import com.hubspot.jinjava.el.JinjavaInterpreterResolver;
import com.hubspot.jinjava.interpret.RenderResult;
import com.hubspot.jinjava.interpret.TemplateError;
import com.hubspot.jinjava.lib.fn.ELFunctionDefinition;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import jinjava.javax.el.CompositeELResolver;

/**
 * A Hugging Face chat template ({@code chat_template} of tokenizer_config.json) rendered with
 * Jinjava the way transformers' {@code apply_chat_template} renders it with Jinja2:
 * {@code trim_blocks} and {@code lstrip_blocks} on; variables {@code messages},
 * {@code add_generation_prompt}, {@code bos_token}, {@code eos_token} (and the other special
 * tokens), {@code tools} = none; functions {@code raise_exception} and {@code strftime_now}; the
 * {@code tojson} filter formatting like Python's json.dumps. Extra variables such as Qwen3's
 * {@code enable_thinking} are passed through.
 *
 * <p>Jinja2 features Jinjava lacks are bridged: Python string/dict methods
 * ({@link PyMethodsResolver}), step slices and keyword-argument precedence ({@link JinjaCompat}).
 * Any render error is raised as a {@link ChatTemplateException}; a template never silently renders
 * something different. Known remaining differences: {@code ~} concatenates booleans as
 * {@code true} (Python: {@code True}); printing None gives "" (Python: "None"), because Jinjava
 * cannot tell None from undefined. Thread-safe.
 */
public final class ChatTemplate {

    private final String source;
    private final String compiled;
    private final Map<String, String> specialTokens;
    private final Jinjava jinjava;

    private ChatTemplate(String source, Map<String, String> specialTokens) {
        this.source = source;
        try {
            this.compiled = JinjaCompat.rewrite(source);
        } catch (IllegalArgumentException e) {
            throw new ChatTemplateException("chat template uses an unsupported construct: " + e.getMessage(), e);
        }
        this.specialTokens = Map.copyOf(specialTokens);
        CompositeELResolver resolver = new CompositeELResolver();
        resolver.add(new PyMethodsResolver());
        resolver.add(JinjavaInterpreterResolver.DEFAULT_RESOLVER_READ_WRITE); // READ_WRITE: `set ns.x = ...` writes into namespaces
        JinjavaConfig config = JinjavaConfig.newBuilder()
                // trim_blocks / lstrip_blocks are applied by JinjaCompat with Jinja2's exact rules.
                .withTrimBlocks(false)
                .withLstripBlocks(false)
                .withElResolver(resolver)
                .withFailOnUnknownTokens(false)
                .build();
        this.jinjava = new Jinjava(config);
        var g = jinjava.getGlobalContext();
        g.registerFunction(new ELFunctionDefinition("", "raise_exception", PyFunctions.class, "raiseException", Object.class));
        g.registerFunction(new ELFunctionDefinition("", "strftime_now", PyFunctions.class, "strftimeNow", String.class));
        g.registerFunction(new ELFunctionDefinition("", JinjaCompat.SLICE_FUNCTION, PyFunctions.class, "slice",
                Object.class, Object.class, Object.class, Object.class));
        g.registerFunction(new ELFunctionDefinition("", JinjaCompat.STR_FUNCTION, PyFunctions.class, "str", Object.class));
        g.registerFilter(new PyJson.ToJsonFilter());
    }

    /**
     * @param template      the Jinja source
     * @param specialTokens template variables for special tokens, e.g. {@code bos_token -> "<s>"}
     */
    public static ChatTemplate of(String template, Map<String, String> specialTokens) {
        return new ChatTemplate(template, specialTokens);
    }

    /** Renders a conversation. */
    public String render(List<ChatMessage> messages, boolean addGenerationPrompt) {
        return render(messages, addGenerationPrompt, Map.of());
    }

    /** Renders a conversation with extra template variables (e.g. {@code enable_thinking -> false}). */
    public String render(List<ChatMessage> messages, boolean addGenerationPrompt, Map<String, ?> extraVariables) {
        List<Map<String, Object>> maps = new ArrayList<>();
        for (ChatMessage m : messages) {
            Map<String, Object> mm = new LinkedHashMap<>();
            mm.put("role", m.role());
            mm.put("content", m.content());
            maps.add(mm);
        }
        return renderMaps(maps, addGenerationPrompt, extraVariables);
    }

    /**
     * Renders messages given as maps, for fields beyond role/content ({@code reasoning_content},
     * {@code tool_calls}...).
     */
    public String renderMaps(List<? extends Map<String, ?>> messages, boolean addGenerationPrompt, Map<String, ?> extraVariables) {
        Map<String, Object> ctx = new HashMap<>(specialTokens);
        List<Map<String, Object>> copy = new ArrayList<>();
        for (Map<String, ?> m : messages) copy.add(new LinkedHashMap<>(m));
        ctx.put("messages", copy);
        ctx.put("add_generation_prompt", addGenerationPrompt);
        ctx.put("tools", null);
        ctx.put("documents", null);
        ctx.putAll(extraVariables);
        RenderResult r;
        try {
            r = jinjava.renderForResult(compiled, ctx);
        } catch (PyFunctions.RaisedByTemplate e) {
            throw new ChatTemplateException("chat template raised: " + e.getMessage(), e);
        } catch (RuntimeException e) {
            throw new ChatTemplateException("chat template failed: " + e.getMessage(), e);
        }
        List<String> problems = new ArrayList<>();
        for (TemplateError err : r.getErrors()) {
            if (err.getSeverity() != TemplateError.ErrorType.FATAL) continue;
            Throwable cause = err.getException();
            while (cause != null) {
                if (cause instanceof PyFunctions.RaisedByTemplate raised) {
                    throw new ChatTemplateException("chat template raised: " + raised.getMessage(), raised);
                }
                cause = cause.getCause();
            }
            problems.add("line " + err.getLineno() + ": " + err.getMessage());
        }
        if (!problems.isEmpty()) throw new ChatTemplateException("chat template failed to render: " + String.join("; ", problems));
        return r.getOutput();
    }

    /** The template as given. */
    public String source() {
        return source;
    }
}
