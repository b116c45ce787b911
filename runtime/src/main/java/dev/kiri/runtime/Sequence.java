package dev.kiri.runtime;

import dev.kiri.kernels.Kernels;
import dev.kiri.kernels.KernelsProvider;
import dev.kiri.kernels.KvCache;
import dev.kiri.runtime.gpu.GpuDecoder;
import dev.kiri.runtime.model.Decoder;
import dev.kiri.runtime.model.Forward;
import dev.kiri.runtime.model.ModelConfig;
import dev.kiri.runtime.model.State;
import dev.kiri.runtime.sampling.Sampler;
import dev.kiri.runtime.sampling.SamplingParams;
import dev.kiri.runtime.tokenizer.StreamingDecoder;
import dev.kiri.runtime.tokenizer.Tokenizer;
import java.util.Arrays;
import java.util.concurrent.ThreadLocalRandom;

/**
 * One sequence of a {@link Model}: its own kernels (thread pool), decoder, KV cache and
 * activations, sampler, and the tokens its cache holds. Used by one generation at a time; the
 * model hands sequences out and takes them back.
 *
 * <p>The generation loop, per token: check cancellation; sample from the last logits (penalties
 * over the cached tokens); stop on an end-of-generation token; turn the token's bytes into text
 * (complete UTF-8 only), hold back a possible stop-string start, hand the final text to the
 * listener; stop on a stop string or the token limit; make room if the cache is full (shift or
 * stop); run the token through the decoder. Nothing in the loop allocates except the text handed
 * to the listener (and, amortised, the growing result).
 */
final class Sequence implements AutoCloseable {
    private final Model model;
    final Kernels kernels;
    private final Forward decoder;
    final State state;
    private final Sampler sampler;
    private final int vocab;
    private final int[] tokens;   // tokens[0 .. state.position()) are in the KV cache
    private float[] batchLogits;  // [batch][vocab] for logits(), made on first use

    Sequence(Model model) {
        this.model = model;
        ModelConfig c = model.config();
        this.vocab = c.vocab();
        LoadOptions o = model.options();
        checkHeap(model);
        this.kernels = KernelsProvider.create(o.threads());
        try {
            Decoder cpu = new Decoder(model.weights(), kernels, model.contextLength());
            int batch = Math.min(o.batchSize(), model.contextLength());
            int onGpu = model.gpu() != null ? model.gpu().gpuLayers() : 0;
            this.state = new State(c, model.contextLength(), batch, kvType(o), onGpu);
            this.decoder = model.gpu() != null ? new GpuDecoder(model.gpu(), cpu, model.contextLength(), batch) : cpu;
            this.sampler = new Sampler(vocab);
            this.tokens = new int[model.contextLength()];
        } catch (OutOfMemoryError e) {
            kernels.close();
            throw new OutOfMemoryError(model.source() + ": no room in the Java heap for a sequence's KV cache of "
                    + model.contextLength() + " positions (" + kvHeapBytes(model) / 1_000_000 + " MB) and buffers (heap limit "
                    + Runtime.getRuntime().maxMemory() / 1_000_000 + " MB): use a shorter context length or a larger -Xmx");
        } catch (RuntimeException | Error e) {
            kernels.close();
            throw e;
        }
    }

    /**
     * Fails clearly, before anything is reserved, when a sequence's KV cache in the heap (the layers
     * on the CPU; a GPU's cache is in device memory) is larger than the most the Java heap may ever
     * hold: a model's own context (Llama 3.2: 131072 positions, 4.3 GB of F16 cache for the 1B) can
     * be far beyond what the caller meant to reserve. {@link Model#load} checks this too, before
     * its copies are made.
     */
    private static void checkHeap(Model model) {
        checkHeap(model.source(), model.config(), model.contextLength(), model.options(),
                model.gpu() != null ? model.gpu().gpuLayers() : 0);
    }

    /** As above, from what a load knows before the model exists. */
    static void checkHeap(String source, ModelConfig c, int context, LoadOptions o, int onGpu) {
        long max = Runtime.getRuntime().maxMemory();
        long need = kvHeapBytes(c, context, o, onGpu);
        if (max != Long.MAX_VALUE && need > max) {
            throw new IllegalArgumentException(source + ": a context of " + context + " positions needs "
                    + need / 1_000_000 + " MB of " + o.kvCache() + " KV cache, more than the Java heap's limit of "
                    + max / 1_000_000 + " MB: load with a shorter context length (LoadOptions.contextLength, --ctx) or a larger -Xmx");
        }
    }

    private static KvCache.Type kvType(LoadOptions o) {
        return o.kvCache() == LoadOptions.KvCacheType.F32 ? KvCache.Type.F32 : KvCache.Type.F16;
    }

    /** The KV cache bytes a sequence of this model reserves, computed without reserving them. */
    static long kvBytes(Model m) {
        ModelConfig c = m.config();
        int onGpu = m.gpu() != null ? m.gpu().gpuLayers() : 0;
        return kvHeapBytes(m) + 2L * onGpu * c.kvHeads() * m.contextLength() * c.headDim() * Float.BYTES;
    }

    /** The part of {@link #kvBytes} in the Java heap: the layers that run on the CPU. */
    static long kvHeapBytes(Model m) {
        return kvHeapBytes(m.config(), m.contextLength(), m.options(), m.gpu() != null ? m.gpu().gpuLayers() : 0);
    }

    private static long kvHeapBytes(ModelConfig c, int context, LoadOptions o, int onGpu) {
        long padded = ((long) context + KvCache.KEY_TILE - 1) / KvCache.KEY_TILE * KvCache.KEY_TILE;
        int bytes = o.kvCache() == LoadOptions.KvCacheType.F32 ? 4 : 2;
        return 2L * (c.layers() - onGpu) * c.kvHeads() * padded * c.headDim() * bytes;
    }

    GenerationResult generate(int[] prompt, GenerateOptions o, TokenListener listener) {
        int capacity = state.capacity();
        if (prompt.length > capacity) throw new ContextFullException(0, prompt.length, capacity);
        Cancellation cancel = o.cancellation();
        boolean[] eog = model.endOfGenerationTable();
        Tokenizer tok = model.tokenizer();
        long seed = o.seed() != null ? o.seed() : ThreadLocalRandom.current().nextLong();
        sampler.reseed(seed);
        SamplingParams params = new SamplingParams(o.temperature(), o.topK(), o.topP(), o.minP(), o.repeatPenalty(),
                o.repeatLastN(), o.frequencyPenalty(), o.presencePenalty());
        StopStrings stops = new StopStrings(o.stop());
        StreamingDecoder text8 = tok != null ? StreamingDecoder.continuing(tok, false) : null;
        StringBuilder text = new StringBuilder(256);
        int[] generated = new int[o.maxTokens() > 0 ? Math.min(o.maxTokens(), 4096) : 256];
        int count = 0;
        int passes = 0; // single-token passes run while generating

        // ---- prompt: reuse the cached prefix, evaluate the rest in batches ----
        long t0 = System.nanoTime();
        int common = 0;
        int cached = state.position();
        while (common < cached && common < prompt.length && tokens[common] == prompt[common]) common++;
        if (common == prompt.length) common--; // the last prompt token is run again for its logits
        state.truncate(common);
        System.arraycopy(prompt, common, tokens, common, prompt.length - common);
        int toEvaluate = prompt.length - common;
        FinishReason reason = null;
        for (int pos = common; pos < prompt.length; ) {
            if (cancel != null && cancel.isCancelled()) {
                reason = FinishReason.CANCELLED;
                break;
            }
            int n = Math.min(state.batch(), prompt.length - pos);
            decoder.forward(state, tokens, pos, n, null);
            pos += n;
            listener.onPromptProgress(pos - common, toEvaluate);
        }
        int evaluated = state.position() - common;
        long t1 = System.nanoTime();

        // ---- generation ----
        float[] logits = state.logits();
        while (reason == null) {
            if (cancel != null && cancel.isCancelled()) {
                reason = FinishReason.CANCELLED;
                break;
            }
            int id = sampler.sample(logits, params, tokens, state.position());
            if (eog[id] && !o.ignoreEndOfGeneration()) {
                reason = FinishReason.END_OF_GENERATION;
                break;
            }
            if (count == generated.length) generated = Arrays.copyOf(generated, 2 * count);
            generated[count++] = id;
            String piece = text8 != null ? text8.accept(id) : "";
            String out = stops.append(piece);
            if (!out.isEmpty()) text.append(out);
            listener.onToken(out, id);
            if (stops.stopped()) {
                reason = FinishReason.STOP_STRING;
                break;
            }
            if (count == o.maxTokens()) {
                // The last token is not run: its pass would only compute logits nobody samples (with
                // maxTokens 1, a whole pass after the answer). A following call whose prompt goes on
                // from this text runs it in its prompt batch, as it does a stop string's last token.
                reason = FinishReason.MAX_TOKENS;
                break;
            }
            if (state.position() == capacity && (o.contextShiftKeep() < 0 || !shift(o.contextShiftKeep()))) {
                reason = FinishReason.CONTEXT_FULL;
                break;
            }
            int pos = state.position();
            tokens[pos] = id;
            decoder.forward(state, tokens, pos, 1, null);
            passes++;
        }
        long t2 = System.nanoTime();

        if (reason != FinishReason.STOP_STRING) {
            String rest = stops.append(text8 != null ? text8.flush() : "") + stops.finish();
            if (!rest.isEmpty()) {
                text.append(rest);
                listener.onToken(rest, -1);
            }
        }
        Timings timings = new Timings(model.loadMillis(), evaluated, t1 - t0, passes, t2 - t1);
        return new GenerationResult(text.toString(), Arrays.copyOf(generated, count), prompt.length, reason, timings, seed);
    }

    /**
     * Makes room in a full cache: keeps {@code tokens[0 .. keep)}, drops the older half of the rest
     * and evaluates the newer half again at its new positions. False if nothing can be dropped.
     */
    private boolean shift(int keep) {
        int cached = state.position();
        keep = Math.min(keep, cached);
        int discard = (cached - keep) / 2;
        if (discard == 0) return false;
        int remaining = cached - keep - discard;
        System.arraycopy(tokens, keep + discard, tokens, keep, remaining);
        state.truncate(keep);
        for (int pos = keep; pos < keep + remaining; ) {
            int n = Math.min(state.batch(), keep + remaining - pos);
            decoder.forward(state, tokens, pos, n, null);
            pos += n;
        }
        return true;
    }

    /** The logits after every token, as a fresh sequence: {@code [n][vocab]}. */
    float[] allLogits(int[] ids) {
        int capacity = state.capacity();
        if (ids.length > capacity) throw new ContextFullException(0, ids.length, capacity);
        for (int i = 0; i < ids.length; i++) {
            if (ids[i] < 0 || ids[i] >= vocab) {
                throw new IllegalArgumentException("token " + i + " is id " + ids[i] + ", outside the vocabulary of " + vocab);
            }
        }
        if (batchLogits == null) batchLogits = new float[state.batch() * vocab];
        float[] out = new float[ids.length * vocab];
        state.truncate(0);
        System.arraycopy(ids, 0, tokens, 0, ids.length);
        for (int pos = 0; pos < ids.length; ) {
            int n = Math.min(state.batch(), ids.length - pos);
            decoder.forward(state, tokens, pos, n, batchLogits);
            System.arraycopy(batchLogits, 0, out, pos * vocab, n * vocab);
            pos += n;
        }
        return out;
    }

    @Override
    public void close() {
        try {
            decoder.close();
        } finally {
            kernels.close();
        }
    }
}
