package dev.kiri.runtime.sampling;

/**
 * Picks the next token from the logits, in llama.cpp's order: penalties over the recent tokens,
 * then (unless greedy) top-k, top-p, min-p, temperature and a draw with a seeded generator.
 *
 * <p>Every buffer is sized to the vocabulary when the sampler is created: sampling allocates
 * nothing. The generator is SplitMix64, specified here, so a seed gives the same draws on every
 * JVM. Not thread-safe: one sampler per generating thread.
 */
public final class Sampler {
    private final int vocab;
    private final int[] ids;      // candidate ids, best first after selection
    private final float[] vals;   // their logits, then probabilities
    private final int[] counts;   // occurrences of each id among the recent tokens
    private long state;           // SplitMix64

    public Sampler(int vocab) {
        if (vocab < 1) throw new IllegalArgumentException("vocabulary size must be positive: " + vocab);
        this.vocab = vocab;
        this.ids = new int[vocab];
        this.vals = new float[vocab];
        this.counts = new int[vocab];
    }

    /** Restarts the random sequence. */
    public void reseed(long seed) {
        state = seed;
    }

    /**
     * Picks a token. The penalties change {@code logits} in place.
     *
     * @param logits  {@code [vocab]} logits of the next token
     * @param history the tokens so far (prompt and generated), {@code history[0 .. historyLength)}
     */
    public int sample(float[] logits, SamplingParams p, int[] history, int historyLength) {
        if (p.penalties()) penalize(logits, p, history, historyLength);
        if (p.temperature() <= 0f) return argmax(logits);

        int n = topK(logits, p.topK() > 0 ? Math.min(p.topK(), vocab) : vocab);
        // Probabilities at temperature 1 for top-p and min-p (llama.cpp applies the temperature after them).
        softmax(n, 1f);
        if (p.topP() < 1f) {
            double cum = 0;
            int keep = n;
            for (int i = 0; i < n; i++) {
                cum += vals[i];
                if (cum >= p.topP()) {
                    keep = i + 1;
                    break;
                }
            }
            n = keep;
        }
        if (p.minP() > 0f) {
            float threshold = vals[0] * p.minP();
            int keep = 1;
            while (keep < n && vals[keep] >= threshold) keep++;
            n = keep;
        }
        // Back to logits of the survivors, then the temperature.
        for (int i = 0; i < n; i++) vals[i] = logits[ids[i]];
        softmax(n, p.temperature());
        double r = nextDouble();
        double cum = 0;
        for (int i = 0; i < n; i++) {
            cum += vals[i];
            if (r < cum) return ids[i];
        }
        return ids[n - 1];
    }

    /** The largest logit's id (the first on ties). */
    public static int argmax(float[] logits) {
        int best = 0;
        float max = logits[0];
        for (int i = 1; i < logits.length; i++) {
            if (logits[i] > max) {
                max = logits[i];
                best = i;
            }
        }
        return best;
    }

    private void penalize(float[] logits, SamplingParams p, int[] history, int length) {
        int from = p.repeatLastN() < 0 ? 0 : Math.max(0, length - p.repeatLastN());
        for (int i = from; i < length; i++) counts[history[i]]++;
        for (int i = from; i < length; i++) {
            int id = history[i];
            int c = counts[id];
            if (c == 0) continue; // already penalised
            float l = logits[id];
            l = l <= 0 ? l * p.repeatPenalty() : l / p.repeatPenalty();
            logits[id] = l - c * p.frequencyPenalty() - p.presencePenalty();
            counts[id] = 0;
        }
    }

    /**
     * Moves the k largest logits to {@code ids/vals[0..k)}, largest first: a min-heap of the k best
     * seen so far, then sorted in place. O(V log k), no allocation.
     */
    private int topK(float[] logits, int k) {
        for (int i = 0; i < k; i++) {
            ids[i] = i;
            vals[i] = logits[i];
        }
        for (int i = k / 2 - 1; i >= 0; i--) siftDown(i, k);
        for (int i = k; i < vocab; i++) {
            if (logits[i] > vals[0]) {
                ids[0] = i;
                vals[0] = logits[i];
                siftDown(0, k);
            }
        }
        // Heap sort: repeatedly move the smallest to the end, leaving the largest first.
        for (int end = k - 1; end > 0; end--) {
            swap(0, end);
            siftDown(0, end);
        }
        return k;
    }

    /** Min-heap order on (value, then higher id is "smaller" so that lower ids win ties). */
    private boolean less(int a, int b) {
        return vals[a] < vals[b] || (vals[a] == vals[b] && ids[a] > ids[b]);
    }

    private void siftDown(int i, int n) {
        while (true) {
            int l = 2 * i + 1;
            if (l >= n) return;
            int m = l + 1 < n && less(l + 1, l) ? l + 1 : l;
            if (!less(m, i)) return;
            swap(i, m);
            i = m;
        }
    }

    private void swap(int a, int b) {
        int ti = ids[a];
        ids[a] = ids[b];
        ids[b] = ti;
        float tv = vals[a];
        vals[a] = vals[b];
        vals[b] = tv;
    }

    /** vals[0..n) (logits, largest first) to probabilities at temperature t. */
    private void softmax(int n, float t) {
        float max = vals[0];
        double sum = 0;
        for (int i = 0; i < n; i++) {
            double e = Math.exp((vals[i] - max) / t);
            vals[i] = (float) e;
            sum += e;
        }
        float inv = (float) (1 / sum);
        for (int i = 0; i < n; i++) vals[i] *= inv;
    }

    /** SplitMix64: a uniform double in [0, 1). */
    private double nextDouble() {
        long z = (state += 0x9E3779B97F4A7C15L);
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        z = z ^ (z >>> 31);
        return (z >>> 11) * 0x1.0p-53;
    }
}
