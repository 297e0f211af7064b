package io.r1kit.rewards;

import java.io.IOException;
import java.lang.reflect.Constructor;
import java.lang.reflect.InvocationTargetException;
import java.net.MalformedURLException;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.ServiceLoader;
import java.util.TreeMap;
import java.util.stream.Stream;

/**
 * Finds reward functions by name (ServiceLoader over {@link RewardProvider}) or by class name,
 * from the application class path plus jars in plugin directories and extra class path entries.
 */
public final class RewardRegistry {

    /** Reserved for the reward-model stage; not a rule reward. */
    public static final String REWARD_MODEL = "reward_model";

    private final ClassLoader loader;
    private final Map<String, RewardProvider> providers = new TreeMap<>();

    public RewardRegistry(ClassLoader loader) {
        this.loader = loader;
        try {
            for (RewardProvider p : ServiceLoader.load(RewardProvider.class, loader)) {
                RewardProvider prev = providers.putIfAbsent(p.name(), p);
                if (prev != null && prev.getClass() != p.getClass()) {
                    throw new RewardConfigException("two rewards are named '" + p.name() + "': " + prev.getClass().getName()
                            + " and " + p.getClass().getName());
                }
            }
        } catch (java.util.ServiceConfigurationError e) {
            throw new RewardConfigException("a reward plugin could not be loaded (check the jars in plugins/ and "
                    + "META-INF/services/" + RewardProvider.class.getName() + "): " + e.getMessage(), e);
        }
    }

    /** Built-ins only (the class path this module was loaded from). */
    public static RewardRegistry builtins() {
        return new RewardRegistry(RewardRegistry.class.getClassLoader());
    }

    /**
     * A registry that also sees every {@code *.jar} in {@code pluginDirs} (missing directories are
     * skipped) and the entries of {@code classpath} (jars or class folders, which must exist).
     */
    public static RewardRegistry withPlugins(List<Path> pluginDirs, List<Path> classpath) {
        List<URL> urls = new ArrayList<>();
        try {
            for (Path dir : pluginDirs) {
                if (!Files.isDirectory(dir)) continue;
                try (Stream<Path> s = Files.list(dir)) {
                    for (Path jar : s.filter(p -> p.toString().endsWith(".jar")).sorted(Comparator.naturalOrder()).toList()) {
                        urls.add(jar.toUri().toURL());
                    }
                }
            }
            for (Path p : classpath) {
                if (!Files.exists(p)) throw new RewardConfigException("class path entry " + p + " does not exist");
                urls.add(p.toUri().toURL());
            }
        } catch (MalformedURLException e) {
            throw new RewardConfigException("bad plugin path: " + e.getMessage(), e);
        } catch (IOException e) {
            throw new RewardConfigException("cannot list plugin directory: " + e.getMessage(), e);
        }
        ClassLoader parent = RewardRegistry.class.getClassLoader();
        return new RewardRegistry(urls.isEmpty() ? parent : new URLClassLoader(urls.toArray(URL[]::new), parent));
    }

    /** Registered names, sorted. */
    public List<String> names() {
        return List.copyOf(providers.keySet());
    }

    public Map<String, RewardProvider> providers() {
        return java.util.Collections.unmodifiableMap(providers);
    }

    /** Creates the function a spec describes. */
    public RewardFunction create(RewardSpec spec) {
        if (spec.name() != null) return createByName(spec.name(), spec.params());
        return createByClass(spec.className(), spec.params());
    }

    public RewardFunction createByName(String name, Map<String, Object> params) {
        RewardProvider p = providers.get(name);
        if (p == null) {
            if (name.equals(REWARD_MODEL)) {
                throw new RewardConfigException("reward 'reward_model' is reserved: its implementation comes with the "
                        + "reward-model stage and is not available in this build");
            }
            String near = closest(name);
            throw new RewardConfigException("unknown reward '" + name + "'" + (near == null ? "" : " (did you mean '" + near + "'?)")
                    + "; available: " + String.join(", ", names()) + "; or give 'class: com.acme.MyReward' with the jar in plugins/");
        }
        return p.create(new RewardParams(name, params));
    }

    public RewardFunction createByClass(String className, Map<String, Object> params) {
        Class<?> cls;
        try {
            cls = Class.forName(className, true, loader);
        } catch (ClassNotFoundException | LinkageError e) {
            throw new RewardConfigException("reward class " + className + " not found: put its jar in a plugins/ directory "
                    + "or pass it with --classpath (" + e + ")", e);
        }
        String simple = cls.getSimpleName();
        RewardParams rp = new RewardParams(simple, params);
        try {
            if (RewardProvider.class.isAssignableFrom(cls)) {
                return ((RewardProvider) cls.getConstructor().newInstance()).create(rp);
            }
            if (!RewardFunction.class.isAssignableFrom(cls)) {
                throw new RewardConfigException("class " + className + " implements neither " + RewardFunction.class.getName()
                        + " nor " + RewardProvider.class.getName());
            }
            for (Constructor<?> c : cls.getConstructors()) {
                Class<?>[] t = c.getParameterTypes();
                if (t.length == 1 && t[0] == RewardParams.class) return (RewardFunction) c.newInstance(rp);
            }
            for (Constructor<?> c : cls.getConstructors()) {
                Class<?>[] t = c.getParameterTypes();
                if (t.length == 1 && t[0] == Map.class) return (RewardFunction) c.newInstance(params);
            }
            try {
                Constructor<?> c = cls.getConstructor();
                if (!params.isEmpty()) {
                    throw new RewardConfigException("reward class " + className + " takes no params (no constructor with RewardParams "
                            + "or Map), but params were given: " + params.keySet());
                }
                return (RewardFunction) c.newInstance();
            } catch (NoSuchMethodException e) {
                throw new RewardConfigException("reward class " + className + " needs a public constructor taking RewardParams, "
                        + "Map<String, Object>, or nothing", e);
            }
        } catch (InvocationTargetException e) {
            Throwable cause = e.getCause();
            if (cause instanceof RewardConfigException rce) throw rce;
            throw new RewardConfigException("reward class " + className + " failed to construct: " + cause, cause);
        } catch (ReflectiveOperationException e) {
            throw new RewardConfigException("reward class " + className + " cannot be instantiated: " + e, e);
        }
    }

    /** The registered name closest to {@code name} by edit distance, or null when none is close. */
    String closest(String name) {
        String best = null;
        int bestD = Integer.MAX_VALUE;
        for (String n : providers.keySet()) {
            int d = editDistance(name.toLowerCase(), n.toLowerCase());
            if (d < bestD) { bestD = d; best = n; }
        }
        return best != null && bestD <= Math.max(2, name.length() / 3) ? best : null;
    }

    static int editDistance(String a, String b) {
        int[] prev = new int[b.length() + 1], cur = new int[b.length() + 1];
        for (int j = 0; j <= b.length(); j++) prev[j] = j;
        for (int i = 1; i <= a.length(); i++) {
            cur[0] = i;
            for (int j = 1; j <= b.length(); j++) {
                int sub = prev[j - 1] + (a.charAt(i - 1) == b.charAt(j - 1) ? 0 : 1);
                cur[j] = Math.min(sub, Math.min(prev[j] + 1, cur[j - 1] + 1));
            }
            int[] t = prev; prev = cur; cur = t;
        }
        return prev[b.length()];
    }
}
