package dev.kiri.kernels.cuda;

import dev.kiri.gguf.GgmlType;
import dev.kiri.kernels.RopeTable;
import dev.kiri.kernels.Weights;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Decode micro-benchmark of the CUDA kernels for a transformer of the Llama-3.2-1B shape with
 * random weights of one type (all matrices, embedding and output included): one decode step is
 * embedding lookup, per layer RMSNorm, Q/K/V products, RoPE, KV store, split-K attention, output
 * product, residual, RMSNorm, gate/up products, SwiGLU, down product, residual, then the final
 * norm and the output product. Timed as direct launches and as one replayed CUDA graph per token,
 * at positions 0..127 (as {@code llama-bench -n 128}); each kernel on its own (50 launches in one
 * graph) with the bandwidth it reaches. Prefill: a 512-token prompt through every layer with the
 * tensor-core products and batched attention (as {@code llama-bench -p 512}), the TF32 product's
 * TFLOP/s per matrix shape, the column-batched matrix-vector product against it for a few token
 * counts (where {@link CudaKernels#GEMM_MIN_COLUMNS} should lie), and the old column-batched prefill.
 *
 * <p>Arguments: weight types to benchmark ({@code Q4_0 Q8_0} by default); {@code matvec:TYPE} times
 * only the matrix products of that type. Run by {@code scripts/gpu-check.sh}:
 * {@code java ... dev.kiri.kernels.cuda.CudaBench Q4_0 Q8_0 matvec:Q4_K matvec:Q6_K}.
 */
public final class CudaBench {
    private static final int HIDDEN = 2048, FFN = 8192, LAYERS = 16, HEADS = 32, KV_HEADS = 8, HEAD_DIM = 64, VOCAB = 128256;
    private static final int CAPACITY = 256, TOKENS = 128, PROMPT = 512;

    private CudaBench() {
    }

    public static void main(String[] args) {
        CudaProbe.availability().require();
        try (CudaContext ctx = CudaContext.open(0)) {
            System.out.println("device: " + ctx.device());
            CudaKernels k = new CudaKernels(ctx);
            for (String a : args.length == 0 ? new String[] {"Q4_0", "Q8_0"} : args) {
                if (a.startsWith("matvec:")) runMatvecOnly(k, GgmlType.valueOf(a.substring("matvec:".length())));
                else run(k, GgmlType.valueOf(a));
            }
        }
    }

    /** Random blocks of {@code t} with every scale a small finite half. */
    private static Weights random(Arena arena, GgmlType t, int rows, int cols, long seed) {
        long bytes = t.byteSize((long) rows * cols);
        MemorySegment seg = arena.allocate(bytes, 64);
        long s = seed * 0x9E3779B97F4A7C15L + 1;
        long words = bytes / 8;
        for (long i = 0; i < words; i++) {
            s ^= s << 13;
            s ^= s >>> 7;
            s ^= s << 17;
            seg.setAtIndex(ValueLayout.JAVA_LONG, i, s);
        }
        ValueLayout.OfShort half = ValueLayout.JAVA_SHORT_UNALIGNED;
        long blocks = (long) rows * cols / t.blockSize();
        short small = Float.floatToFloat16(0.01f);
        switch (t) {
            case Q8_0, Q4_0 -> {
                for (long b = 0; b < blocks; b++) seg.set(half, b * t.bytesPerBlock(), small);
            }
            case Q4_K -> {
                for (long b = 0; b < blocks; b++) {
                    seg.set(half, b * t.bytesPerBlock(), small);
                    seg.set(half, b * t.bytesPerBlock() + 2, small);
                }
            }
            case Q6_K -> {
                for (long b = 0; b < blocks; b++) seg.set(half, b * t.bytesPerBlock() + 208, small);
            }
            case F16, BF16 -> {
                for (long i = 0; i < (long) rows * cols; i++) seg.setAtIndex(half, i, (short) (small & 0x7fff));
            }
            case F32 -> {
                for (long i = 0; i < (long) rows * cols; i++) seg.setAtIndex(ValueLayout.JAVA_FLOAT_UNALIGNED, i, 0.01f);
            }
            default -> throw new IllegalArgumentException("no random weights of type " + t);
        }
        return new Weights("random " + t.ggmlName() + " " + rows + "x" + cols, t, seg, rows, cols);
    }

    private static void run(CudaKernels k, GgmlType t) {
        CudaContext ctx = k.context();
        List<AutoCloseable> owned = new ArrayList<>();
        try (Arena arena = Arena.ofConfined()) {
            Weights hq = random(arena, t, HIDDEN, HIDDEN, 1), hk = random(arena, t, KV_HEADS * HEAD_DIM, HIDDEN, 2);
            Weights hgate = random(arena, t, FFN, HIDDEN, 3), hdown = random(arena, t, HIDDEN, FFN, 4);
            Weights hvocab = random(arena, t, VOCAB, HIDDEN, 5);
            long layerBytes = 2 * hq.byteSize() + 2 * hk.byteSize() + 2 * hgate.byteSize() + hdown.byteSize();
            long weightBytes = LAYERS * layerBytes + 2 * hvocab.byteSize();
            ctx.requireFits(weightBytes, "Llama-3.2-1B-shaped " + t.ggmlName() + " weights");
            DeviceWeights[][] w = new DeviceWeights[LAYERS][7];
            for (int l = 0; l < LAYERS; l++) {
                Weights[] src = {hq, hk, hk, hq, hgate, hgate, hdown};
                for (int i = 0; i < 7; i++) {
                    w[l][i] = k.upload(src[i]);
                    owned.add(w[l][i]);
                }
            }
            DeviceWeights embd = k.upload(hvocab), output = k.upload(hvocab);
            owned.add(embd);
            owned.add(output);
            float[] ones = new float[HIDDEN];
            Arrays.fill(ones, 1f);
            DeviceBuffer norm = k.upload(ones, "norm");
            DeviceBuffer[] rope = k.upload(RopeTable.create(HEAD_DIM, Math.max(CAPACITY, PROMPT), 500000f, null, 1f));
            DeviceKvCache cache = new DeviceKvCache(ctx, LAYERS, KV_HEADS, HEAD_DIM, CAPACITY);
            int splits = CudaKernels.attentionSplits(CAPACITY);
            DeviceBuffer x = ctx.allocateFloats(HIDDEN, "x"), xn = ctx.allocateFloats(HIDDEN, "xn"),
                    tmp = ctx.allocateFloats(HIDDEN, "tmp"), q = ctx.allocateFloats(HIDDEN, "q"),
                    kk = ctx.allocateFloats(KV_HEADS * HEAD_DIM, "k"), vv = ctx.allocateFloats(KV_HEADS * HEAD_DIM, "v"),
                    att = ctx.allocateFloats(HIDDEN, "att"), gate = ctx.allocateFloats(FFN, "gate"),
                    up = ctx.allocateFloats(FFN, "up"), logits = ctx.allocateFloats(VOCAB, "logits"),
                    scratch = ctx.allocateFloats(CudaKernels.attentionScratchFloats(1, HEADS, HEAD_DIM, splits), "scratch"),
                    pos = ctx.allocate(4, "pos"), tok = ctx.allocate(4, "token");
            owned.addAll(List.of(norm, rope[0], rope[1], cache, x, xn, tmp, q, kk, vv, att, gate, up, logits, scratch, pos, tok));
            float scale = (float) (1 / Math.sqrt(HEAD_DIM));
            Runnable step = () -> {
                k.getRows(embd, tok, x, 1);
                for (int l = 0; l < LAYERS; l++) {
                    DeviceWeights[] lw = w[l];
                    k.rmsnorm(xn, x, norm, HIDDEN, 1, 1e-5f);
                    k.matvec(lw[0], xn, q, 1);
                    k.matvec(lw[1], xn, kk, 1);
                    k.matvec(lw[2], xn, vv, 1);
                    k.rope(q, pos, 1, HEADS, HEAD_DIM, HEAD_DIM, rope, false);
                    k.rope(kk, pos, 1, KV_HEADS, HEAD_DIM, HEAD_DIM, rope, false);
                    k.kvStore(cache, l, kk, vv, pos, 1);
                    k.attention(q, att, 1, HEADS, cache, l, pos, 0, scale, 0f, scratch, splits);
                    k.matvec(lw[3], att, tmp, 1);
                    k.add(x, x, tmp, HIDDEN);
                    k.rmsnorm(xn, x, norm, HIDDEN, 1, 1e-5f);
                    k.matvec(lw[4], xn, gate, 1);
                    k.matvec(lw[5], xn, up, 1);
                    k.swiglu(gate, gate, up, FFN);
                    k.matvec(lw[6], gate, tmp, 1);
                    k.add(x, x, tmp, HIDDEN);
                }
                k.rmsnorm(xn, x, norm, HIDDEN, 1, 1e-5f);
                k.matvec(output, xn, logits, 1);
            };
            long bytesPerToken = LAYERS * layerBytes + hvocab.byteSize() + embd.rowBytes();
            System.out.printf("%n%s: weights %.0f MiB, %d kernel launches per token, %.1f MiB read per token%n",
                    t.ggmlName(), weightBytes / 1048576.0, 3 + LAYERS * 17, bytesPerToken / 1048576.0);

            // direct launches
            for (int p = 0; p < 8; p++) stepAt(ctx, step, null, pos, tok, p);
            ctx.synchronize();
            long t0 = System.nanoTime();
            for (int p = 0; p < TOKENS; p++) stepAt(ctx, step, null, pos, tok, p);
            ctx.synchronize();
            double direct = (System.nanoTime() - t0) / 1e9 / TOKENS;
            float[] directLogits = new float[VOCAB];
            ctx.download(logits, 0, directLogits, 0, VOCAB);

            try (CudaGraph g = ctx.capture(step)) {
                for (int p = 0; p < 8; p++) stepAt(ctx, null, g, pos, tok, p);
                ctx.synchronize();
                t0 = System.nanoTime();
                for (int p = 0; p < TOKENS; p++) stepAt(ctx, null, g, pos, tok, p);
                ctx.synchronize();
                double graph = (System.nanoTime() - t0) / 1e9 / TOKENS;
                float[] graphLogits = new float[VOCAB];
                ctx.download(logits, 0, graphLogits, 0, VOCAB);
                double peak = ctx.device().peakBandwidth();
                report("decode, direct launches", direct, bytesPerToken, peak);
                report("decode, one graph per token", graph, bytesPerToken, peak);
                System.out.println("  graph logits identical to direct launches at the last position: "
                        + Arrays.equals(directLogits, graphLogits));
            }

            // each kernel alone: 48-50 launches captured in a graph, so that launch overhead drops out
            matvecTimes(k, w, output, new DeviceBuffer[] {xn, xn, xn, gate}, new DeviceBuffer[] {q, kk, up, tmp}, xn, logits);
            double s;
            ctx.setInt(pos, 0, TOKENS - 1);
            s = perLaunch(ctx, () -> k.attention(q, att, 1, HEADS, cache, 0, pos, 0, scale, 0f, scratch, splits));
            System.out.printf("  attention (split + merge) at position %d: %.2f us%n", TOKENS - 1, s * 1e6);
            s = perLaunch(ctx, () -> k.rmsnorm(xn, x, norm, HIDDEN, 1, 1e-5f));
            System.out.printf("  rmsnorm %d: %.2f us%n", HIDDEN, s * 1e6);
            s = perLaunch(ctx, () -> k.swiglu(gate, gate, up, FFN));
            System.out.printf("  swiglu %d: %.2f us%n", FFN, s * 1e6);

            prefill(k, w, embd, output, norm, rope, owned);
        } finally {
            for (int i = owned.size() - 1; i >= 0; i--) {
                try {
                    owned.get(i).close();
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
            }
        }
    }

    /**
     * Prefill of {@code PROMPT} tokens at positions 0.. through every layer: embedding rows, then per
     * layer RMSNorm, Q/K/V products, RoPE, KV store, causal attention of the batch, output product,
     * residual, RMSNorm, gate/up, SwiGLU, down, residual (products as {@link CudaKernels#matvec}
     * chooses: the tensor-core product for the batch); then the last token's norm and logits.
     */
    private static void prefill(CudaKernels k, DeviceWeights[][] w, DeviceWeights embd, DeviceWeights output,
                                DeviceBuffer norm, DeviceBuffer[] rope, List<AutoCloseable> owned) {
        CudaContext ctx = k.context();
        int n = PROMPT;
        DeviceKvCache cache = new DeviceKvCache(ctx, LAYERS, KV_HEADS, HEAD_DIM, PROMPT);
        owned.add(cache);
        DeviceBuffer x = ctx.allocateFloats((long) n * HIDDEN, "prefill x"), xn = ctx.allocateFloats((long) n * HIDDEN, "prefill xn"),
                tmp = ctx.allocateFloats((long) n * HIDDEN, "prefill tmp"), q = ctx.allocateFloats((long) n * HIDDEN, "prefill q"),
                kk = ctx.allocateFloats((long) n * KV_HEADS * HEAD_DIM, "prefill k"),
                vv = ctx.allocateFloats((long) n * KV_HEADS * HEAD_DIM, "prefill v"),
                att = ctx.allocateFloats((long) n * HIDDEN, "prefill att"), gate = ctx.allocateFloats((long) n * FFN, "prefill gate"),
                up = ctx.allocateFloats((long) n * FFN, "prefill up"), logits = ctx.allocateFloats(VOCAB, "prefill logits"),
                scratch = ctx.allocateFloats(CudaKernels.attentionScratchFloats(n, HEADS, HEAD_DIM, 1), "prefill scratch"),
                pos = ctx.allocate(4, "prefill pos"), tok = ctx.allocate(4L * n, "prefill tokens");
        owned.addAll(List.of(x, xn, tmp, q, kk, vv, att, gate, up, logits, scratch, pos, tok));
        for (int i = 0; i < n; i++) ctx.setInt(tok, i, (i * 7919 + 13) % VOCAB);
        ctx.setInt(pos, 0, 0);
        float scale = (float) (1 / Math.sqrt(HEAD_DIM));
        DeviceBuffer lastIn = xn.sliceFloats((long) (n - 1) * HIDDEN, HIDDEN), lastX = x.sliceFloats((long) (n - 1) * HIDDEN, HIDDEN);
        Runnable run = () -> {
            k.getRows(embd, tok, x, n);
            for (int l = 0; l < LAYERS; l++) {
                DeviceWeights[] lw = w[l];
                k.rmsnorm(xn, x, norm, HIDDEN, n, 1e-5f);
                k.matvec(lw[0], xn, q, n);
                k.matvec(lw[1], xn, kk, n);
                k.matvec(lw[2], xn, vv, n);
                k.rope(q, pos, n, HEADS, HEAD_DIM, HEAD_DIM, rope, false);
                k.rope(kk, pos, n, KV_HEADS, HEAD_DIM, HEAD_DIM, rope, false);
                k.kvStore(cache, l, kk, vv, pos, n);
                k.attention(q, att, n, HEADS, cache, l, pos, 0, scale, 0f, scratch, 1);
                k.matvec(lw[3], att, tmp, n);
                k.add(x, x, tmp, n * HIDDEN);
                k.rmsnorm(xn, x, norm, HIDDEN, n, 1e-5f);
                k.matvec(lw[4], xn, gate, n);
                k.matvec(lw[5], xn, up, n);
                k.swiglu(gate, gate, up, n * FFN);
                k.matvec(lw[6], gate, tmp, n);
                k.add(x, x, tmp, n * HIDDEN);
            }
            k.rmsnorm(lastIn, lastX, norm, HIDDEN, 1, 1e-5f);
            k.matvec(output, lastIn, logits, 1);
        };
        double flop = 0;
        for (DeviceWeights m : w[0]) flop += 2.0 * m.rows() * m.cols() * n;
        flop *= LAYERS;
        run.run();
        ctx.synchronize();
        long t0 = System.nanoTime();
        run.run();
        ctx.synchronize();
        double direct = (System.nanoTime() - t0) / 1e9;
        double graph;
        try (CudaGraph g = ctx.capture(run)) {
            g.launch();
            ctx.synchronize();
            t0 = System.nanoTime();
            for (int r = 0; r < 3; r++) g.launch();
            ctx.synchronize();
            graph = (System.nanoTime() - t0) / 1e9 / 3;
        }
        float[] got = new float[VOCAB];
        ctx.download(logits, 0, got, 0, VOCAB);
        boolean finite = true;
        for (float v : got) finite &= Float.isFinite(v);
        System.out.printf("  prefill %d tokens, direct launches:  %8.2f ms %9.0f tokens/s%n", n, direct * 1e3, n / direct);
        System.out.printf("  prefill %d tokens, one graph:        %8.2f ms %9.0f tokens/s (layer products %.1f TFLOP/s overall; last logits finite: %b)%n",
                n, graph * 1e3, n / graph, flop / graph / 1e12, finite);

        // the parts on their own (the graph of 50 launches of perLaunch; positions 0..n-1)
        String[] names = {"q/o " + HIDDEN + "x" + HIDDEN, "k/v " + KV_HEADS * HEAD_DIM + "x" + HIDDEN,
                "gate/up " + FFN + "x" + HIDDEN, "down " + HIDDEN + "x" + FFN};
        DeviceWeights[] mats = {w[0][0], w[0][1], w[0][4], w[0][6]};
        DeviceBuffer[] ins = {xn, xn, xn, gate};
        DeviceBuffer[] outs = {q, kk, up, tmp};
        for (int i = 0; i < mats.length; i++) {
            DeviceWeights m = mats[i];
            DeviceBuffer in = ins[i], out = outs[i];
            double flops = 2.0 * m.rows() * m.cols() * n;
            double s0 = perLaunch(ctx, () -> k.gemm(m, in, out, n));
            System.out.printf("  gemm %-20s x %d tokens: %9.1f us %7.1f TFLOP/s%n", names[i], n, s0 * 1e6, flops / s0 / 1e12);
            StringBuilder line = new StringBuilder(String.format("  gemm by variant %-20s x %d tokens, us whole/halves:", names[i], n));
            for (boolean wide : new boolean[] {false, true}) {
                double v1 = perLaunch(ctx, () -> k.gemm(m, in, out, n, 1, wide));
                double v2 = perLaunch(ctx, () -> k.gemm(m, in, out, n, 2, wide));
                line.append(String.format(" %s %.1f/%.1f", wide ? "wide" : "64-token", v1 * 1e6, v2 * 1e6));
            }
            var plan = CudaKernels.gemmPlan(m.type(), m.rows(), m.cols(), n, ctx.device().multiprocessors());
            line.append(" (used: ").append(plan.wide() ? "wide" : "64-token").append(plan.splits() == 1 ? " whole)" : " halves)");
            System.out.println(line);
        }
        double s = perLaunch(ctx, () -> k.attention(q, att, n, HEADS, cache, 0, pos, 0, scale, 0f, scratch, 1));
        System.out.printf("  attention of %d tokens (causal, one layer): %.1f us%n", n, s * 1e6);
        s = perLaunch(ctx, () -> k.rmsnorm(xn, x, norm, HIDDEN, n, 1e-5f));
        System.out.printf("  rmsnorm %d x %d: %.1f us%n", n, HIDDEN, s * 1e6);
        s = perLaunch(ctx, () -> k.rope(q, pos, n, HEADS, HEAD_DIM, HEAD_DIM, rope, false));
        System.out.printf("  rope %d x %d heads: %.1f us%n", n, HEADS, s * 1e6);
        s = perLaunch(ctx, () -> k.swiglu(gate, gate, up, n * FFN));
        System.out.printf("  swiglu %d x %d: %.1f us%n", n, FFN, s * 1e6);

        // where the tensor-core product overtakes the column-batched matrix-vector kernels
        for (int i : new int[] {0, 2}) {
            DeviceWeights m = mats[i];
            StringBuilder line = new StringBuilder("  " + names[i] + " us, matvec/gemm by tokens:");
            for (int c : new int[] {1, 2, 4, 8, 12, 16, 24, 32, 64}) {
                k.gemmEnabled = false;
                double mv = perLaunch(ctx, () -> k.matvec(m, xn, outs[i], c));
                k.gemmEnabled = true;
                double gm = perLaunch(ctx, () -> k.gemm(m, xn, outs[i], c));
                line.append(String.format(" %d: %.1f/%.1f", c, mv * 1e6, gm * 1e6));
            }
            System.out.println(line);
        }

        // the former prefill path: every layer matrix as column-batched matrix-vector products
        k.gemmEnabled = false;
        try {
            Runnable columns = () -> {
                for (int l = 0; l < LAYERS; l++) {
                    k.matvec(w[l][0], xn, q, n);
                    k.matvec(w[l][1], xn, kk, n);
                    k.matvec(w[l][2], xn, vv, n);
                    k.matvec(w[l][3], att, tmp, n);
                    k.matvec(w[l][4], xn, gate, n);
                    k.matvec(w[l][5], xn, up, n);
                    k.matvec(w[l][6], gate, tmp, n);
                }
            };
            ctx.synchronize();
            t0 = System.nanoTime();
            columns.run();
            ctx.synchronize();
            double pre = (System.nanoTime() - t0) / 1e9;
            System.out.printf("  prefill products only as column-batched matvec (%d columns): %.0f tokens/s%n", n, n / pre);
        } finally {
            k.gemmEnabled = true;
        }
    }

    /** Seconds per run of {@code op}, from a graph of 50 runs replayed 5 times after one warm-up. */
    private static double perLaunch(CudaContext ctx, Runnable op) {
        return perLaunch(ctx, 50, i -> op.run());
    }

    /** Seconds per run of {@code op(i)}, from a graph of runs i = 0..count-1 replayed 5 times after one warm-up. */
    private static double perLaunch(CudaContext ctx, int count, java.util.function.IntConsumer op) {
        try (CudaGraph g = ctx.capture(() -> {
            for (int i = 0; i < count; i++) op.accept(i);
        })) {
            g.launch();
            ctx.synchronize();
            long t0 = System.nanoTime();
            for (int r = 0; r < 5; r++) g.launch();
            ctx.synchronize();
            return (System.nanoTime() - t0) / 1e9 / (5.0 * count);
        }
    }

    /**
     * Each matrix shape of a layer ({@code w[layer][0..6]}: q, k, v, o, gate, up, down) and the
     * output product alone, n = 1: once as 50 launches on the same matrix (which may then stay in
     * L2, as the small ones do on large GPUs) and once cycling through the layers' copies (3 x 16
     * launches, each matrix read from device memory), with GB/s and the fraction of peak.
     */
    private static void matvecTimes(CudaKernels k, DeviceWeights[][] w, DeviceWeights output, DeviceBuffer[] ins,
                                    DeviceBuffer[] outs, DeviceBuffer outIn, DeviceBuffer logits) {
        CudaContext ctx = k.context();
        double peak = ctx.device().peakBandwidth();
        int[] which = {0, 1, 4, 6};
        String[] names = {"q/o", "k/v", "gate/up", "down"};
        for (int i = 0; i < which.length; i++) {
            int m = which[i];
            DeviceWeights m0 = w[0][m];
            DeviceBuffer in = ins[i], out = outs[i];
            double same = perLaunch(ctx, () -> k.matvec(m0, in, out, 1));
            double cycled = perLaunch(ctx, 3 * w.length, j -> k.matvec(w[j % w.length][m], in, out, 1));
            printMatvec(names[i] + " " + m0.rows() + "x" + m0.cols(), m0, same, cycled, peak);
        }
        double s = perLaunch(ctx, () -> k.matvec(output, outIn, logits, 1));
        printMatvec("output " + output.rows() + "x" + output.cols(), output, s, Double.NaN, peak);
    }

    private static void printMatvec(String what, DeviceWeights m, double same, double cycled, double peak) {
        double bytes = m.buffer().byteSize();
        String line = String.format("  matvec %-5s %-18s same matrix %8.2f us %7.1f GB/s", m.type().ggmlName(), what,
                same * 1e6, bytes / same / 1e9);
        if (!Double.isNaN(cycled)) {
            line += String.format(" | 16 copies %8.2f us %7.1f GB/s", cycled * 1e6, bytes / cycled / 1e9);
        }
        double best = Double.isNaN(cycled) ? same : cycled;
        if (peak > 0) line += String.format(" (%.0f%% of peak)", 100 * bytes / best / peak);
        System.out.println(line);
    }

    /**
     * Matrix products only, for types the decode benchmark does not cover: 16 copies of each
     * layer matrix shape and one output matrix of {@code t}, timed by {@link #matvecTimes}.
     */
    private static void runMatvecOnly(CudaKernels k, GgmlType t) {
        CudaContext ctx = k.context();
        List<AutoCloseable> owned = new ArrayList<>();
        try (Arena arena = Arena.ofConfined()) {
            Weights hq = random(arena, t, HIDDEN, HIDDEN, 1), hk = random(arena, t, KV_HEADS * HEAD_DIM, HIDDEN, 2);
            Weights hgate = random(arena, t, FFN, HIDDEN, 3), hdown = random(arena, t, HIDDEN, FFN, 4);
            Weights hvocab = random(arena, t, VOCAB, HIDDEN, 5);
            long bytes = LAYERS * (hq.byteSize() + hk.byteSize() + hgate.byteSize() + hdown.byteSize()) + hvocab.byteSize();
            ctx.requireFits(bytes, "matrices of " + t.ggmlName());
            DeviceWeights[][] w = new DeviceWeights[LAYERS][7];
            for (int l = 0; l < LAYERS; l++) {
                Weights[] src = {hq, hk, null, null, hgate, null, hdown};
                for (int i = 0; i < 7; i++) {
                    if (src[i] == null) continue;
                    w[l][i] = k.upload(src[i]);
                    owned.add(w[l][i]);
                }
            }
            DeviceWeights output = k.upload(hvocab);
            owned.add(output);
            DeviceBuffer x = ctx.allocateFloats(FFN, "x"), y = ctx.allocateFloats(VOCAB, "y");
            owned.add(x);
            owned.add(y);
            float[] ones = new float[FFN];
            Arrays.fill(ones, 0.5f);
            ctx.upload(ones, 0, FFN, x, 0);
            System.out.printf("%n%s matrix products (n = 1):%n", t.ggmlName());
            matvecTimes(k, w, output, new DeviceBuffer[] {x, x, x, x}, new DeviceBuffer[] {y, y, y, y}, x, y);
        } finally {
            for (int i = owned.size() - 1; i >= 0; i--) {
                try {
                    owned.get(i).close();
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
            }
        }
    }

    private static void stepAt(CudaContext ctx, Runnable direct, CudaGraph graph, DeviceBuffer pos, DeviceBuffer tok, int p) {
        ctx.setInt(pos, 0, p);
        ctx.setInt(tok, 0, (p * 7919) % VOCAB);
        if (graph != null) graph.launch();
        else direct.run();
    }

    private static void report(String what, double secondsPerToken, long bytesPerToken, double peak) {
        double bw = bytesPerToken / secondsPerToken;
        System.out.printf("  %-28s %8.3f ms/token %8.1f tokens/s %8.1f GB/s%s%n", what, secondsPerToken * 1e3,
                1 / secondsPerToken, bw / 1e9, peak > 0 ? String.format(" (%.0f%% of %.0f GB/s peak)", 100 * bw / peak, peak / 1e9) : "");
    }
}
