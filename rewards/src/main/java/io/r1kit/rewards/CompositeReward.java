package io.r1kit.rewards;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Weighted sum of reward functions with error isolation.
 *
 * <p>Every function runs on its own worker thread with a time limit per batch. A function that
 * throws is retried one completion at a time so only the completions that fail get null; one that
 * exceeds its time limit gets null for the whole batch. Each failure is logged once (with the
 * example id) and counted in {@code rewards/<name>/errors}; the run goes on.
 */
public final class CompositeReward implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(CompositeReward.class);

    /** Default per-batch time limit of a reward function. */
    public static final Duration DEFAULT_TIMEOUT = Duration.ofSeconds(60);

    /** One weighted reward. */
    public record Member(String label, RewardFunction function, double weight, Duration timeout) { }

    private final List<Member> members;
    private final ExecutorService pool;
    private final Set<String> loggedStack = new HashSet<>();

    public CompositeReward(List<Member> members) {
        if (members.isEmpty()) throw new RewardConfigException("no rewards configured");
        Set<String> seen = new HashSet<>();
        for (Member m : members) {
            if (!seen.add(m.label())) {
                throw new RewardConfigException("two rewards are labelled '" + m.label() + "'; give one a 'label:'");
            }
        }
        this.members = List.copyOf(members);
        this.pool = Executors.newCachedThreadPool(r -> {
            Thread t = new Thread(r, "reward-worker");
            t.setDaemon(true);
            return t;
        });
    }

    /** Builds the functions of {@code specs} from {@code registry}. */
    public static CompositeReward fromSpecs(List<RewardSpec> specs, RewardRegistry registry, Duration defaultTimeout) {
        List<Member> ms = new ArrayList<>();
        for (RewardSpec s : specs) {
            RewardFunction fn = registry.create(s);
            Duration t = s.timeoutSeconds() == null ? defaultTimeout : Duration.ofMillis((long) (s.timeoutSeconds() * 1000));
            ms.add(new Member(s.displayName(), fn, s.weight(), t));
        }
        return new CompositeReward(ms);
    }

    /** From a YAML config: registry with its plugin dirs and class path. */
    public static CompositeReward fromConfig(RewardConfig config, List<java.nio.file.Path> extraPluginDirs,
                                             List<java.nio.file.Path> extraClasspath) {
        List<java.nio.file.Path> dirs = new ArrayList<>(config.pluginDirs());
        dirs.addAll(extraPluginDirs);
        List<java.nio.file.Path> cp = new ArrayList<>(config.classpath());
        cp.addAll(extraClasspath);
        return fromSpecs(config.rewards(), RewardRegistry.withPlugins(dirs, cp), DEFAULT_TIMEOUT);
    }

    public List<String> names() {
        return members.stream().map(Member::label).toList();
    }

    public List<Member> members() {
        return members;
    }

    /** Scores a batch with every function, and the weighted sum. */
    public RewardBatchResult score(List<Completion> batch) {
        int n = batch.size();
        List<Future<List<Double>>> futures = new ArrayList<>();
        for (Member m : members) futures.add(pool.submit(() -> m.function().score(List.copyOf(batch))));

        List<List<Double>> values = new ArrayList<>();
        Map<String, Double> metrics = new LinkedHashMap<>();
        long[] errors = new long[members.size()];
        for (int f = 0; f < members.size(); f++) {
            Member m = members.get(f);
            Double[] out = new Double[n];
            try {
                List<Double> got = futures.get(f).get(m.timeout().toMillis(), TimeUnit.MILLISECONDS);
                check(m, got, n);
                for (int i = 0; i < n; i++) {
                    Double v = got.get(i);
                    if (v != null && !Double.isFinite(v)) {
                        errors[f]++;
                        logFailure(m, batch.get(i), "returned " + v, null);
                        v = null;
                    }
                    out[i] = v;
                }
            } catch (TimeoutException e) {
                futures.get(f).cancel(true);
                errors[f] += n;
                logFailure(m, n == 0 ? null : batch.get(0), "exceeded its time limit of " + m.timeout().toMillis() / 1000.0
                        + " s on a batch of " + n + " (all " + n + " scored null)", null);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("interrupted while scoring rewards", e);
            } catch (ExecutionException e) {
                // isolate: score one completion at a time so only the failing ones get null
                Throwable cause = e.getCause();
                if (n == 1) {
                    errors[f]++;
                    logFailure(m, batch.get(0), "threw " + cause, cause);
                } else {
                    errors[f] += scoreOneByOne(m, batch, out);
                }
            }
            values.add(Arrays.asList(out));
        }

        double[] totals = new double[n];
        double[] weights = new double[members.size()];
        for (int f = 0; f < members.size(); f++) {
            Member m = members.get(f);
            weights[f] = m.weight();
            List<Double> vs = values.get(f);
            for (int i = 0; i < n; i++) if (vs.get(i) != null) totals[i] += m.weight() * vs.get(i);
            double[] st = meanStd(vs);
            String key = "rewards/" + m.label() + "/";
            metrics.put(key + "mean", st[0]);
            metrics.put(key + "std", st[1]);
            metrics.put(key + "errors", (double) errors[f]);
            if (m.function() instanceof RewardDiagnostics d) {
                for (Map.Entry<String, Long> c : d.drainCounters().entrySet()) metrics.put(key + c.getKey(), (double) c.getValue());
            }
        }
        List<Double> tl = new ArrayList<>();
        for (double t : totals) tl.add(t);
        double[] st = meanStd(tl);
        metrics.put("reward", st[0]);
        metrics.put("reward_std", st[1]);
        return new RewardBatchResult(names(), weights, List.copyOf(values.stream().map(java.util.Collections::unmodifiableList).toList()),
                totals, metrics);
    }

    private int scoreOneByOne(Member m, List<Completion> batch, Double[] out) {
        int errors = 0;
        long deadline = System.nanoTime() + m.timeout().toNanos();
        for (int i = 0; i < batch.size(); i++) {
            Completion c = batch.get(i);
            long left = deadline - System.nanoTime();
            if (left <= 0) {
                errors += batch.size() - i;
                logFailure(m, c, "ran out of time while retrying one by one (" + (batch.size() - i) + " scored null)", null);
                break;
            }
            Future<List<Double>> fut = pool.submit(() -> m.function().score(List.of(c)));
            try {
                List<Double> got = fut.get(left, TimeUnit.NANOSECONDS);
                check(m, got, 1);
                Double v = got.get(0);
                if (v != null && !Double.isFinite(v)) {
                    errors++;
                    logFailure(m, c, "returned " + v, null);
                    v = null;
                }
                out[i] = v;
            } catch (TimeoutException e) {
                fut.cancel(true);
                errors += batch.size() - i;
                logFailure(m, c, "exceeded its time limit (" + (batch.size() - i) + " scored null)", null);
                break;
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("interrupted while scoring rewards", e);
            } catch (ExecutionException e) {
                errors++;
                logFailure(m, c, "threw " + e.getCause(), e.getCause());
            }
        }
        return errors;
    }

    private static void check(Member m, List<Double> got, int n) throws ExecutionException {
        if (got == null || got.size() != n) {
            throw new ExecutionException(new IllegalStateException("reward '" + m.label() + "' returned "
                    + (got == null ? "null" : got.size() + " values") + " for " + n + " completions"));
        }
    }

    private void logFailure(Member m, Completion c, String what, Throwable cause) {
        String id = c == null ? "?" : c.exampleId();
        boolean first;
        synchronized (loggedStack) {
            first = loggedStack.add(m.label());
        }
        if (first && cause != null) LOG.warn("reward '{}' {} (example {}); scored null, run goes on", m.label(), what, id, cause);
        else LOG.warn("reward '{}' {} (example {}); scored null, run goes on", m.label(), what, id);
    }

    /** Mean and sample standard deviation of the non-null values (NaN mean when there are none). */
    static double[] meanStd(List<Double> vs) {
        double sum = 0;
        int k = 0;
        for (Double v : vs) if (v != null) { sum += v; k++; }
        if (k == 0) return new double[] {Double.NaN, Double.NaN};
        double mean = sum / k, ss = 0;
        for (Double v : vs) if (v != null) ss += (v - mean) * (v - mean);
        return new double[] {mean, k > 1 ? Math.sqrt(ss / (k - 1)) : 0.0};
    }

    @Override
    public void close() {
        pool.shutdownNow();
        for (Member m : members) {
            if (m.function() instanceof AutoCloseable c) {
                try {
                    c.close();
                } catch (Exception e) {
                    LOG.warn("closing reward '{}' failed: {}", m.label(), e.toString());
                }
            }
        }
    }
}
