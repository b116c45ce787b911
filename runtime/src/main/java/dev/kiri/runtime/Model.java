package dev.kiri.runtime;

import dev.kiri.gguf.GgufFile;
import dev.kiri.gguf.GgufMetadata;
import dev.kiri.gguf.ModelArchive;
import dev.kiri.kernels.KernelsProvider;
import dev.kiri.kernels.matmul.Interleave;
import dev.kiri.runtime.chat.ChatTemplate;
import dev.kiri.runtime.chat.ChatTemplateException;
import dev.kiri.kernels.cuda.CudaContext;
import dev.kiri.kernels.cuda.CudaException;
import dev.kiri.kernels.cuda.CudaUnavailableException;
import dev.kiri.runtime.gpu.GpuModel;
import dev.kiri.runtime.hub.HfDownloader;
import dev.kiri.runtime.model.Decoder;
import dev.kiri.runtime.model.ModelConfig;
import dev.kiri.runtime.model.ModelWeights;
import dev.kiri.runtime.tokenizer.Tokenizer;
import dev.kiri.runtime.tokenizer.Tokenizers;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.nio.file.Path;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.function.BiFunction;

/**
 * A loaded model: the mapped GGUF file, its decoder, tokenizer and chat template, and the memory
 * of one sequence reserved up front.
 *
 * <pre>{@code
 * try (Model model = Model.load(Path.of("model.gguf"))) {
 *     GenerationResult r = model.generate("Once upon a time", GenerateOptions.defaults().maxTokens(64),
 *             (text, id) -> System.out.print(text));
 *     System.err.println(r.timings());
 * }
 * }</pre>
 *
 * <h2>Memory</h2>
 * The weights stay in the file mapping (the operating system pages them in), except that with the
 * Vector API kernels on the CPU, Q4_0, Q8_0 and K-quant (Q2_K to Q6_K) matrices are copied once into
 * a layout of the kernels' own (Q4_0 and Q8_0 rows interleaved in eights, the K-quants' blocks with
 * their bits reordered; as large as the file's, or a few per cent larger) and read from there; the
 * file's pages of those matrices are then released, so resident memory still counts them once
 * ({@code -Dkiri.interleave=false} keeps every matrix in the mapping). Q5_0 matrices are widened
 * into the Q8_0 copy (55 % more than their bytes in the file) when they are at most half of the
 * model's matrix bytes, as where a K-quant mix falls back to Q5_0, and stay in the mapping in a Q5_0
 * model ({@code -Dkiri.widenQ5_0=true} or {@code false} decides otherwise). With
 * {@link LoadOptions#copyCache} the copies are kept in a file between loads and mapped from it,
 * which spares a load the copying (see {@link #copyCacheFile()}). Loading reserves the
 * KV cache for {@link #contextLength()} positions ({@link #kvCacheBytes()}) plus the activation
 * buffers of one forward pass, so that generating allocates nothing per token.
 *
 * <h2>Prompt reuse</h2>
 * A sequence remembers the tokens in its KV cache. A new generation whose prompt starts with the
 * same tokens (a chat that grows by one turn) evaluates only the rest; {@link Timings#promptTokens()}
 * counts what was evaluated.
 *
 * <h2>Thread safety</h2>
 * A {@code Model} is safe to use from several threads. Each generation runs on the calling thread
 * with a sequence of its own (KV cache, activations, sampler, kernel thread pool): concurrent calls
 * never share one, so they cannot corrupt each other. The sequence reserved at load serves one
 * call at a time; a call that finds it busy creates another (the same memory again, and
 * {@link LoadOptions#threads} more kernel threads), which is kept for later calls. Closing the model
 * while generations run lets them finish first. Listeners are called on the generating thread.
 */
public final class Model implements AutoCloseable {
    private static final System.Logger LOG = System.getLogger("dev.kiri.runtime");
    private final GgufFile file;
    private final String source;
    private final ModelWeights weights;
    private final Tokenizer tokenizer;
    private final BiFunction<List<Message>, Boolean, String> chatTemplate;
    private final LoadOptions options;
    private final int contextLength;
    private final long loadMillis;
    private final boolean[] endOfGeneration;
    private final ConcurrentLinkedQueue<Sequence> idle = new ConcurrentLinkedQueue<>();
    private final Object lifecycle = new Object();
    private final String backend;
    private final GpuModel gpu;        // null: everything on the CPU
    private final String gpuNote;      // why CUDA is not used under "auto", or null
    private final Arena copies;        // interleaved weight copies, or null
    private final long copiedBytes;    // their size
    private final Path copyFile;       // the copy cache's file they were mapped from or saved to, or null
    private final boolean copyFileHit; // mapped from it (else made, and saved to it)
    private int active;       // guarded by lifecycle
    private boolean closed;   // guarded by lifecycle
    private boolean released; // guarded by lifecycle

    private Model(GgufFile file, ModelWeights weights, Tokenizer tokenizer,
                  BiFunction<List<Message>, Boolean, String> chatTemplate, LoadOptions options, long t0,
                  GpuModel gpu, String gpuNote, Arena copies, Path copyFile, boolean copyFileHit) {
        this.file = file;
        this.copies = copies;
        this.copyFile = copyFile;
        this.copyFileHit = copyFileHit;
        long[] copied = {0};
        weights.mapMatrices(w -> {
            if (w.interleaved() != null) copied[0] += w.interleaved().byteSize();
            return w;
        });
        this.copiedBytes = copied[0];
        this.gpu = gpu;
        this.gpuNote = gpuNote;
        this.source = String.valueOf(file.path().getFileName());
        this.weights = weights;
        this.tokenizer = tokenizer;
        this.chatTemplate = chatTemplate;
        this.options = options;
        ModelConfig c = weights.config();
        int wanted = options.contextLength() == 0 ? c.contextLength() : options.contextLength();
        this.contextLength = Math.min(wanted, c.contextLength());
        this.endOfGeneration = endOfGeneration(file.metadata(), tokenizer, c.vocab());
        Sequence first = new Sequence(this);
        String cpuName = first.kernels.name();
        if (gpu != null) {
            this.backend = "cuda (" + gpu.context().device().name() + ", " + gpu.gpuLayers() + " of " + c.layers()
                    + " layers" + (gpu.offloadsAll() ? " and the output" : "") + " on the GPU"
                    + (gpu.offloadsAll() ? "" : "; CPU: " + cpuName) + ")";
        } else {
            this.backend = gpuNote != null ? cpuName + " (CUDA not used: " + gpuNote + ")" : cpuName;
        }
        idle.add(first);
        this.loadMillis = (System.nanoTime() - t0) / 1_000_000;
    }

    /** Loads a model with {@link LoadOptions#defaults()}. */
    public static Model load(Path path) throws IOException {
        return load(path, LoadOptions.defaults());
    }

    /**
     * Loads a GGUF model: maps the file (the first shard of a split model, or the GGUF inside a
     * {@code .tar}/{@code .tar.gz}/{@code .tar.xz}/{@code .zip} archive, extracted once into the
     * cache), binds its tensors, builds its tokenizer and reserves one sequence's memory.
     *
     * @throws java.nio.file.NoSuchFileException if the file does not exist
     * @throws dev.kiri.gguf.GgufFormatException  if it is not valid GGUF (the message says where)
     * @throws UnsupportedModelException          if its architecture, a tensor or a metadata value is
     *                                            not supported (the message names it)
     * @throws IllegalArgumentException           if the KV cache of the context asked for (or of the
     *                                            model's own, with {@code contextLength(0)}) is larger
     *                                            than the Java heap's limit (the message says how large)
     */
    public static Model load(Path path, LoadOptions options) throws IOException {
        return load(path, options, Model::tokenizerOf, Model::chatTemplateOf);
    }

    /**
     * Loads a model named by a string: {@code hf://OWNER/REPO/FILE.gguf} (downloaded once into the
     * cache, see {@link HfDownloader}), or a path as in {@link #load(Path, LoadOptions)}.
     */
    public static Model load(String model, LoadOptions options) throws IOException {
        return load(resolve(model, null), options);
    }

    /**
     * The local file a model string names: an {@code hf://} reference is downloaded (reporting to
     * {@code progress} when not null), anything else is a path.
     */
    public static Path resolve(String model, HfDownloader.Progress progress) throws IOException {
        Objects.requireNonNull(model, "model");
        if (!HfDownloader.isHfReference(model)) return Path.of(model);
        try {
            return HfDownloader.fromEnvironment().resolve(model, progress);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted while downloading " + model, e);
        }
    }

    /** Loading with the tokenizer and chat template given by functions (tests use small ones). */
    static Model load(Path path, LoadOptions options, BiFunction<GgufMetadata, String, Tokenizer> tokenizers,
                      BiFunction<GgufMetadata, String, BiFunction<List<Message>, Boolean, String>> templates)
            throws IOException {
        Objects.requireNonNull(path, "path");
        Objects.requireNonNull(options, "options");
        long t0 = System.nanoTime();
        Path gguf = ModelArchive.isArchive(path) ? ModelArchive.extract(path, ModelArchive.cacheRoot()) : path;
        GgufFile file = GgufFile.open(gguf);
        try {
            String name = String.valueOf(file.path().getFileName());
            ModelConfig config = ModelConfig.fromMetadata(file.metadata(), name);
            int ctx = options.contextLength() == 0 ? config.contextLength() : Math.min(options.contextLength(), config.contextLength());
            ModelWeights weights = ModelWeights.bind(file, config, ctx);
            Tokenizer tok = tokenizers.apply(file.metadata(), name);
            if (tok != null && !(tok instanceof Unavailable) && tok.vocabularySize() > weights.config().vocab()) {
                throw new UnsupportedModelException(name + ": the tokenizer has " + tok.vocabularySize()
                        + " tokens but token_embd.weight only " + weights.config().vocab() + " rows");
            }
            var template = templates.apply(file.metadata(), name);
            GpuModel gpu = null;
            String gpuNote = null;
            if (!"cpu".equals(options.backend()) && options.gpuLayers() != 0) {
                try {
                    gpu = openGpu(weights, ctx, options.gpuLayers());
                } catch (CudaUnavailableException | CudaException | UnsupportedModelException e) {
                    if ("cuda".equals(options.backend())) throw e;
                    gpuNote = e.getMessage();
                    LOG.log(System.Logger.Level.WARNING, name + ": CUDA not used, running on the CPU: " + gpuNote);
                }
            }
            if (gpu != null && !gpu.convertedToF32().isEmpty()) {
                LOG.log(System.Logger.Level.INFO, name + ": matrices of types the CUDA kernels do not read are held on the GPU"
                        + " as F32 (4 bytes a weight): " + String.join(", ", gpu.convertedToF32())
                        + (gpu.convertedToF32().size() == 8 ? ", ..." : ""));
            }
            Arena copies = null;
            Path copyFile = null;
            boolean copyFileHit = false;
            try {
                // A cache the heap can never hold is refused before the copies are made.
                Sequence.checkHeap(name, weights.config(), ctx, options, gpu != null ? gpu.gpuLayers() : 0);
                if (gpu == null && interleaves()) {
                    // Made in memory, or with a copy cache mapped from it (or made and saved there).
                    CopyCache.Result r = CopyCache.load(file, weights, options.copyCache(), options.threads(), name);
                    if (r != null) {
                        weights = r.weights();
                        copies = r.arena();
                        copyFile = r.file();
                        copyFileHit = r.hit();
                    }
                }
                return new Model(file, weights, tok, template, options, t0, gpu, gpuNote, copies, copyFile, copyFileHit);
            } catch (RuntimeException | Error e) {
                if (gpu != null) gpu.close();
                if (copies != null) copies.close();
                throw e;
            }
        } catch (RuntimeException | Error e) {
            file.close();
            throw e;
        }
    }

    /**
     * Whether Q4_0, Q8_0, Q5_0 and K-quant matrices get a copy ({@link Interleave}): with the Vector API
     * kernels, unless {@code -Dkiri.interleave=false}.
     */
    private static boolean interleaves() {
        return !"false".equals(System.getProperty("kiri.interleave")) && "vector".equals(KernelsProvider.implementation());
    }

    /** Opens device 0 and uploads the first {@code gpuLayers} blocks (-1: all). */
    private static GpuModel openGpu(ModelWeights weights, int contextLength, int gpuLayers) {
        CudaContext ctx = CudaContext.open(0);
        try {
            var tables = Decoder.ropeTables(weights, contextLength);
            int layers = gpuLayers < 0 ? weights.config().layers() : gpuLayers;
            return new GpuModel(ctx, weights, layers, tables[0], tables[1]);
        } catch (RuntimeException | Error e) {
            ctx.close();
            throw e;
        }
    }

    /**
     * The model file's tokenizer, or null when its metadata has none. A tokenizer type this runtime
     * cannot build does not stop the load (token ids still work); text generation then fails with
     * the reason.
     */
    private static Tokenizer tokenizerOf(GgufMetadata md, String source) {
        if (!md.contains("tokenizer.ggml.model")) return null;
        try {
            return Tokenizers.load(md, source);
        } catch (IllegalArgumentException e) {
            return new Unavailable(e.getMessage());
        }
    }

    /**
     * The model file's chat template as a function of (messages, add generation prompt): its
     * {@code tokenizer.chat_template}, or the plain fallback format when it has none (see
     * {@link ChatTemplate#FALLBACK_SOURCE}). A template that cannot be used does not stop the load;
     * {@link #chat} then fails with the reason.
     */
    private static BiFunction<List<Message>, Boolean, String> chatTemplateOf(GgufMetadata md, String source) {
        return new LazyTemplate(md, source);
    }

    /**
     * The chat template, parsed on first use: a model used only through {@link #generate} never
     * starts the template engine (which also needs the {@code java.desktop} module for its bean
     * introspection, absent from minimal jlinked runtimes).
     */
    private static final class LazyTemplate implements BiFunction<List<Message>, Boolean, String> {
        private final GgufMetadata md;
        private final String source;
        private volatile BiFunction<List<Message>, Boolean, String> template;

        LazyTemplate(GgufMetadata md, String source) {
            this.md = md;
            this.source = source;
        }

        @Override
        public String apply(List<Message> messages, Boolean generationPrompt) {
            BiFunction<List<Message>, Boolean, String> t = template;
            if (t == null) {
                try {
                    ChatTemplate parsed = ChatTemplate.fromGguf(md, null);
                    t = parsed::render;
                } catch (ChatTemplateException | IllegalArgumentException e) {
                    String reason = source + ": the chat template cannot be used: " + e.getMessage();
                    t = (m, g) -> {
                        throw new UnsupportedModelException(reason);
                    };
                }
                template = t;
            }
            return t.apply(messages, generationPrompt);
        }
    }

    private static boolean[] endOfGeneration(GgufMetadata md, Tokenizer tok, int vocab) {
        boolean[] eog = new boolean[vocab];
        if (tok != null && !(tok instanceof Unavailable)) {
            for (int id = 0; id < Math.min(vocab, tok.vocabularySize()); id++) eog[id] = tok.isEndOfGeneration(id);
        } else {
            for (String key : new String[] {"tokenizer.ggml.eos_token_id", "tokenizer.ggml.eot_token_id", "tokenizer.ggml.eom_token_id"}) {
                md.optInt(key).ifPresent(id -> {
                    if (id >= 0 && id < vocab) eog[id] = true;
                });
            }
        }
        return eog;
    }

    // ---- generation ---------------------------------------------------------------------------

    /**
     * Continues {@code prompt}: encodes it (with BOS as the model asks; special-token text parsed
     * only if {@link GenerateOptions#parseSpecial}), then generates, streaming to {@code listener}.
     *
     * @throws ContextFullException     if the prompt alone does not fit in the context
     * @throws UnsupportedModelException if the model file has no tokenizer
     */
    public GenerationResult generate(String prompt, GenerateOptions options, TokenListener listener) {
        Objects.requireNonNull(prompt, "prompt");
        return generate(requireTokenizer().encode(prompt, true, options.parseSpecial()), options, listener);
    }

    /**
     * Continues a prompt given as token ids (no BOS is added). Generation ends at
     * {@link GenerateOptions#maxTokens}, an end-of-generation token, a stop string, a cancellation
     * or the end of the context ({@link FinishReason}); with {@link GenerateOptions#contextShift}
     * the context shifts instead of ending.
     *
     * @throws ContextFullException     if the prompt alone does not fit in the context
     * @throws IllegalArgumentException if the prompt is empty or a token id is outside the vocabulary
     */
    public GenerationResult generate(int[] promptTokens, GenerateOptions options, TokenListener listener) {
        Objects.requireNonNull(promptTokens, "promptTokens");
        Objects.requireNonNull(options, "options");
        TokenListener l = listener != null ? listener : TokenListener.none();
        if (promptTokens.length == 0) throw new IllegalArgumentException("empty prompt");
        int vocab = weights.config().vocab();
        for (int i = 0; i < promptTokens.length; i++) {
            if (promptTokens[i] < 0 || promptTokens[i] >= vocab) {
                throw new IllegalArgumentException("prompt token " + i + " is id " + promptTokens[i]
                        + ", outside the vocabulary of " + vocab);
            }
        }
        Sequence s = acquire();
        try {
            return s.generate(promptTokens, options, l);
        } finally {
            release(s);
        }
    }

    /**
     * Answers a conversation: renders {@code messages} with the model's chat template (adding the
     * assistant's turn header), encodes the result with special tokens parsed and no extra BOS
     * beyond what the template writes, and generates as {@link #generate(String, GenerateOptions, TokenListener)}.
     * A conversation that grows turn by turn reuses the cached tokens of the previous turns.
     *
     * @throws UnsupportedModelException if the model has no tokenizer or no chat template
     */
    public GenerationResult chat(List<Message> messages, GenerateOptions options, TokenListener listener) {
        Objects.requireNonNull(messages, "messages");
        if (chatTemplate == null) {
            throw new UnsupportedModelException(source + " has no chat template (metadata key tokenizer.chat_template)");
        }
        String text = chatTemplate.apply(List.copyOf(messages), true);
        Tokenizer tok = requireTokenizer();
        int[] ids = tok.encode(text, false, true);
        int bos = tok.bos();
        // The template usually writes BOS itself; add it only if the model wants one and it is missing.
        int[] withBos = tok.encode("", true, false);
        if (withBos.length > 0 && bos >= 0 && withBos[0] == bos && (ids.length == 0 || ids[0] != bos)) {
            int[] x = new int[ids.length + 1];
            x[0] = bos;
            System.arraycopy(ids, 0, x, 1, ids.length);
            ids = x;
        }
        return generate(ids, options, listener);
    }

    /**
     * The logits after every token of {@code tokens}, evaluated as a fresh sequence: {@code [n][vocab]}
     * row-major (what {@code kiri eval} writes).
     *
     * @throws ContextFullException if the tokens do not fit in the context
     */
    public float[] logits(int[] tokens) {
        Objects.requireNonNull(tokens, "tokens");
        if (tokens.length == 0) throw new IllegalArgumentException("no tokens");
        Sequence s = acquire();
        try {
            return s.allLogits(tokens);
        } finally {
            release(s);
        }
    }

    private Sequence acquire() {
        synchronized (lifecycle) {
            if (closed) throw new IllegalStateException(source + ": the model is closed");
            active++;
        }
        Sequence s = idle.poll();
        if (s != null) return s;
        try {
            return new Sequence(this);
        } catch (RuntimeException | Error e) {
            synchronized (lifecycle) {
                active--;
            }
            throw e;
        }
    }

    private void release(Sequence s) {
        idle.add(s);
        synchronized (lifecycle) {
            active--;
            if (closed && active == 0) releaseResources();
        }
    }

    /** Closes the kernels and the file mapping once no generation runs any more. */
    @Override
    public void close() {
        synchronized (lifecycle) {
            if (closed) return;
            closed = true;
            if (active == 0) releaseResources();
        }
    }

    private void releaseResources() {
        if (released) return;
        released = true;
        for (Sequence s; (s = idle.poll()) != null; ) s.close();
        if (gpu != null) gpu.close();
        if (copies != null) copies.close();
        file.close();
    }

    // ---- information --------------------------------------------------------------------------

    /** The decoder's configuration: architecture, shapes, vocabulary size. */
    public ModelConfig config() {
        return weights.config();
    }

    /** The tokenizer, or null when the model file has none or one this runtime cannot build. */
    public Tokenizer tokenizer() {
        return tokenizer instanceof Unavailable ? null : tokenizer;
    }

    /** Positions one sequence holds: {@link LoadOptions#contextLength} capped by the model's own. */
    public int contextLength() {
        return contextLength;
    }

    /**
     * Bytes of one sequence's KV cache (reserved at load; again for each concurrent generation):
     * host memory for the blocks on the CPU plus, with CUDA, device memory (F32) for those on the GPU.
     */
    public long kvCacheBytes() {
        return Sequence.kvBytes(this);
    }

    /**
     * Bytes of the copies loading made of the Q4_0, Q4_K and Q6_K matrices (0 without them): memory held
     * besides the file mapping, whose pages of those matrices were released.
     */
    public long interleavedBytes() {
        return copies == null ? 0 : copiedBytes;
    }

    /**
     * The copy cache's file ({@link LoadOptions#copyCache}) the kernels' copies were mapped from
     * ({@link #copiesFromCache()}) or saved to by this load; empty without a cache, when nothing was
     * copied, or when the file could not be written (the load then logged why).
     */
    public java.util.Optional<Path> copyCacheFile() {
        return java.util.Optional.ofNullable(copyFile);
    }

    /** Whether the kernels' copies were mapped from the copy cache rather than made by this load. */
    public boolean copiesFromCache() {
        return copyFileHit;
    }

    /** True when some decoder blocks run on a GPU. */
    public boolean usesGpu() {
        return gpu != null;
    }

    /** Peak memory bandwidth of the GPU in bytes per second (from its clock and bus width), or 0 without one. */
    public double gpuPeakBandwidth() {
        return gpu == null ? 0 : gpu.context().device().peakBandwidth();
    }

    /** Time {@link #load} took, in milliseconds. */
    public long loadMillis() {
        return loadMillis;
    }

    /** Bytes of the model file (all shards). */
    public long fileSize() {
        return file.fileSize();
    }

    /** Bytes of weights one decode step reads: the memory-bandwidth cost of a token. */
    public long weightBytesPerToken() {
        return weights.bytesPerToken();
    }

    /**
     * The kernels in use, e.g. {@code "vector-256 (AVX2)"} or {@code "scalar"}; with CUDA
     * {@code "cuda (GPU name, N of M layers on the GPU...)"}; under {@code "auto"} without CUDA, the
     * CPU kernels and why CUDA is not used.
     */
    public String backend() {
        return backend;
    }

    /** The options the model was loaded with. */
    public LoadOptions options() {
        return options;
    }

    /** The model file's name, as used in messages. */
    public String source() {
        return source;
    }

    @Override
    public String toString() {
        ModelConfig c = weights.config();
        return source + " (" + c.arch().name() + ", " + c.layers() + " layers, dim " + c.dim() + ", vocab " + c.vocab()
                + ", context " + contextLength + ")";
    }

    // ---- for Sequence -------------------------------------------------------------------------

    ModelWeights weights() {
        return weights;
    }

    /** The GPU part of the model, or null. */
    GpuModel gpu() {
        return gpu;
    }

    boolean[] endOfGenerationTable() {
        return endOfGeneration;
    }

    private Tokenizer requireTokenizer() {
        if (tokenizer == null) {
            throw new UnsupportedModelException(source + " has no tokenizer (metadata key tokenizer.ggml.model); "
                    + "generate from token ids instead");
        }
        if (tokenizer instanceof Unavailable u) throw new UnsupportedModelException(u.reason);
        return tokenizer;
    }

    /** Stands for a tokenizer that could not be built; every use but the end-of-generation set fails with why. */
    private record Unavailable(String reason) implements Tokenizer {
        @Override
        public int vocabularySize() {
            return 0;
        }

        @Override
        public int[] encode(String text, boolean addSpecial, boolean parseSpecial) {
            throw new UnsupportedModelException(reason);
        }

        @Override
        public byte[] tokenBytes(int id, boolean special) {
            throw new UnsupportedModelException(reason);
        }

        @Override
        public String decode(int[] ids, boolean special) {
            throw new UnsupportedModelException(reason);
        }

        @Override
        public String piece(int id) {
            throw new UnsupportedModelException(reason);
        }

        @Override
        public int bos() {
            return -1;
        }

        @Override
        public boolean isEndOfGeneration(int id) {
            return false;
        }
    }
}
