package dev.kiri.runtime.gpu;

import dev.kiri.gguf.Dequant;
import dev.kiri.gguf.GgmlType;
import dev.kiri.kernels.RopeTable;
import dev.kiri.kernels.Weights;
import dev.kiri.kernels.cuda.CudaContext;
import dev.kiri.kernels.cuda.CudaKernels;
import dev.kiri.kernels.cuda.DeviceBuffer;
import dev.kiri.kernels.cuda.DeviceWeights;
import dev.kiri.runtime.UnsupportedModelException;
import dev.kiri.runtime.model.LayerWeights;
import dev.kiri.runtime.model.ModelConfig;
import dev.kiri.runtime.model.ModelWeights;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.List;

/**
 * The part of a model that lives on the GPU, shared by all its sequences: the first
 * {@link #gpuLayers()} decoder blocks (matrices uploaded as stored, norms and biases as F32), the
 * RoPE tables, and, when every block is offloaded, the embedding table, the final norm and the
 * output matrix. Everything is accounted for before the first allocation: a model that does not
 * fit is refused with the sizes, nothing half-loaded stays behind.
 *
 * <p>Matrices of a type the CUDA kernels do not read ({@link CudaKernels#SUPPORTED}) are
 * dequantized to F32 once, at upload: exact, but four bytes a weight.
 */
public final class GpuModel implements AutoCloseable {
    /**
     * One offloaded decoder block. Absent parts are null, as in {@link LayerWeights}. Where Q, K and
     * V (and gate and up) have one type and one row length, they are uploaded one after the other
     * into one allocation: {@code wqkv} ({@code wGateUp}) is that stack, one matrix for the single
     * matrix-vector product of a decode step, and {@code wq}, {@code wk}, {@code wv} its row
     * ranges for a prompt batch's products; else the stacks are null.
     */
    record Layer(DeviceBuffer attnNorm, DeviceWeights wq, DeviceWeights wk, DeviceWeights wv,
                 DeviceBuffer bq, DeviceBuffer bk, DeviceBuffer bv, DeviceBuffer qNorm, DeviceBuffer kNorm,
                 DeviceWeights wo, DeviceBuffer postAttnNorm, DeviceBuffer ffnNorm,
                 DeviceWeights wGate, DeviceWeights wUp, DeviceWeights wDown, DeviceBuffer postFfnNorm,
                 DeviceWeights wqkv, DeviceWeights wGateUp) {
    }

    private final CudaContext ctx;
    private final ModelConfig config;
    private final int gpuLayers;
    private final List<Layer> layers = new ArrayList<>();
    private final List<String> converted = new ArrayList<>();
    private DeviceWeights tokenEmbd;   // full offload with a type the row lookup reads, else null
    private DeviceWeights output;      // full offload, else null
    private DeviceBuffer outputNorm;   // full offload, else null
    private DeviceBuffer[] rope, ropeSliding;
    private long weightBytes;
    private boolean closed;

    /**
     * Uploads the first {@code gpuLayers} blocks of {@code w} (all of them and the output when
     * {@code gpuLayers >= layers}). The context stays owned by the caller until this model is
     * closed, which closes it too.
     *
     * @throws dev.kiri.kernels.cuda.CudaException when the model does not fit or a driver call fails
     * @throws UnsupportedModelException           when the GPU path cannot run this model's shapes
     */
    public GpuModel(CudaContext ctx, ModelWeights w, int gpuLayers, RopeTable rope, RopeTable ropeSliding) {
        this.ctx = ctx;
        this.config = w.config();
        ModelConfig c = config;
        this.gpuLayers = Math.min(gpuLayers, c.layers());
        if (this.gpuLayers < 1) throw new IllegalArgumentException("no layer to offload: " + gpuLayers);
        if (c.headDim() > CudaKernels.MAX_HEAD_DIM) {
            throw new UnsupportedModelException(c.name() + ": head dimension " + c.headDim() + " exceeds the "
                    + CudaKernels.MAX_HEAD_DIM + " the CUDA attention takes");
        }
        if (c.ropeDim() > c.headDim() || c.ropeDim() % 2 != 0) {
            throw new UnsupportedModelException(c.name() + ": RoPE dimension " + c.ropeDim() + " with head dimension " + c.headDim());
        }
        ctx.makeCurrent();
        ctx.requireFits(bytesNeeded(w, this.gpuLayers, rope, ropeSliding), c.name() + " (" + this.gpuLayers + " of "
                + c.layers() + " layers on the GPU)");
        try {
            for (int l = 0; l < this.gpuLayers; l++) layers.add(upload(w.layers().get(l)));
            if (full()) {
                if (CudaKernels.SUPPORTED.contains(w.tokenEmbd().type())) tokenEmbd = upload(w.tokenEmbd());
                output = w.output() == w.tokenEmbd() && tokenEmbd != null ? tokenEmbd : upload(w.output());
                outputNorm = upload(w.outputNorm(), "output_norm.weight");
            }
            this.rope = uploadRope(rope, "rope");
            this.ropeSliding = ropeSliding == rope ? this.rope : uploadRope(ropeSliding, "rope (sliding layers)");
        } catch (RuntimeException | Error e) {
            close();
            throw e;
        }
    }

    /** Device bytes the weights of the first {@code gpuLayers} blocks (and the head if all) take. */
    public static long bytesNeeded(ModelWeights w, int gpuLayers, RopeTable rope, RopeTable ropeSliding) {
        ModelConfig c = w.config();
        int g = Math.min(gpuLayers, c.layers());
        long n = 0;
        for (int l = 0; l < g; l++) {
            LayerWeights lw = w.layers().get(l);
            for (Weights m : new Weights[] {lw.wq(), lw.wk(), lw.wv(), lw.wo(), lw.wGate(), lw.wUp(), lw.wDown()}) {
                n += deviceBytes(m);
            }
            for (float[] v : new float[][] {lw.attnNorm(), lw.bq(), lw.bk(), lw.bv(), lw.qNorm(), lw.kNorm(),
                    lw.postAttnNorm(), lw.ffnNorm(), lw.postFfnNorm()}) {
                if (v != null) n += 4L * v.length;
            }
        }
        if (g == c.layers()) {
            boolean lookup = CudaKernels.SUPPORTED.contains(w.tokenEmbd().type());
            if (lookup) n += w.tokenEmbd().byteSize();
            if (!(lookup && w.output() == w.tokenEmbd())) n += deviceBytes(w.output());
            n += 4L * c.dim();
        }
        n += 2L * 4 * rope.cosTable().length;
        if (ropeSliding != rope) n += 2L * 4 * ropeSliding.cosTable().length;
        return n;
    }

    private static long deviceBytes(Weights m) {
        return CudaKernels.SUPPORTED.contains(m.type()) ? m.byteSize() : 4L * m.rows() * m.cols();
    }

    private boolean full() {
        return gpuLayers == config.layers();
    }

    private Layer upload(LayerWeights lw) {
        DeviceWeights[] qkv = uploadStacked(lw.wq(), lw.wk(), lw.wv());
        DeviceWeights[] gu = uploadStacked(lw.wGate(), lw.wUp());
        return new Layer(upload(lw.attnNorm(), "attn_norm"), qkv[0], qkv[1], qkv[2],
                upload(lw.bq(), "attn_q.bias"), upload(lw.bk(), "attn_k.bias"), upload(lw.bv(), "attn_v.bias"),
                upload(lw.qNorm(), "attn_q_norm"), upload(lw.kNorm(), "attn_k_norm"), upload(lw.wo()),
                upload(lw.postAttnNorm(), "post_attention_norm"), upload(lw.ffnNorm(), "ffn_norm"),
                gu[0], gu[1], upload(lw.wDown()), upload(lw.postFfnNorm(), "post_ffw_norm"), qkv[3], gu[2]);
    }

    /**
     * Uploads {@code ms} into one allocation, one after the other, where they can be one matrix (a
     * type the kernels read, the same type, columns and row length, whole rows of a multiple of 16
     * bytes each, so that every part stays aligned for the tensor-core product): each as a slice of
     * it, and the whole stack last. Otherwise each on its own, and null last.
     */
    private DeviceWeights[] uploadStacked(Weights... ms) {
        DeviceWeights[] out = new DeviceWeights[ms.length + 1];
        boolean stack = true;
        for (Weights m : ms) {
            stack &= m != null && m.type() == ms[0].type() && CudaKernels.SUPPORTED.contains(m.type())
                    && m.cols() == ms[0].cols() && m.rowBytes() == ms[0].rowBytes()
                    && m.byteSize() == m.rowBytes() * m.rows() && m.byteSize() % 16 == 0;
        }
        if (!stack) {
            for (int i = 0; i < ms.length; i++) out[i] = ms[i] == null ? null : upload(ms[i]);
            return out;
        }
        long total = 0;
        int rows = 0;
        StringBuilder name = new StringBuilder();
        for (Weights m : ms) {
            total += m.byteSize();
            rows += m.rows();
            name.append(name.isEmpty() ? "" : "+").append(m.name());
        }
        DeviceBuffer b = ctx.allocate(total, name.toString());
        try {
            long off = 0;
            for (int i = 0; i < ms.length; i++) {
                Weights m = ms[i];
                ctx.upload(m.data().asSlice(0, m.byteSize()), b, off);
                out[i] = new DeviceWeights(m.name(), m.type(), b.slice(off, m.byteSize()), m.rows(), m.cols(), m.rowBytes());
                off += m.byteSize();
            }
        } catch (RuntimeException e) {
            b.close();
            throw e;
        }
        weightBytes += total;
        out[ms.length] = new DeviceWeights(name.toString(), ms[0].type(), b, rows, ms[0].cols(), ms[0].rowBytes());
        return out;
    }

    private DeviceBuffer upload(float[] v, String what) {
        if (v == null) return null;
        DeviceBuffer b = ctx.allocate(4L * v.length, what);
        ctx.upload(v, 0, v.length, b, 0);
        weightBytes += b.byteSize();
        return b;
    }

    private DeviceBuffer[] uploadRope(RopeTable t, String what) {
        return new DeviceBuffer[] {upload(t.cosTable(), what + " cos"), upload(t.sinTable(), what + " sin")};
    }

    /** Uploads a matrix as stored, or dequantized to F32 when the kernels do not read its type. */
    private DeviceWeights upload(Weights m) {
        if (CudaKernels.SUPPORTED.contains(m.type())) {
            DeviceBuffer b = ctx.allocate(m.byteSize(), m.name());
            try {
                ctx.upload(m.data().asSlice(0, m.byteSize()), b, 0);
            } catch (RuntimeException e) {
                b.close();
                throw e;
            }
            weightBytes += b.byteSize();
            return new DeviceWeights(m.name(), m.type(), b, m.rows(), m.cols(), m.rowBytes());
        }
        long rowBytes = 4L * m.cols();
        DeviceBuffer b = ctx.allocate(rowBytes * m.rows(), m.name() + " (as F32)");
        try (Arena tmp = Arena.ofConfined()) {
            int rowsPerChunk = (int) Math.max(1, Math.min(m.rows(), (16L << 20) / rowBytes));
            float[] row = new float[m.cols()];
            MemorySegment chunk = tmp.allocate(rowBytes * rowsPerChunk, 64);
            for (int r0 = 0; r0 < m.rows(); r0 += rowsPerChunk) {
                int rows = Math.min(rowsPerChunk, m.rows() - r0);
                for (int r = 0; r < rows; r++) {
                    Dequant.row(m.type(), m.data(), (long) (r0 + r) * m.rowBytes(), row, 0, m.cols());
                    MemorySegment.copy(row, 0, chunk, ValueLayout.JAVA_FLOAT, r * rowBytes, m.cols());
                }
                ctx.upload(chunk.asSlice(0, rows * rowBytes), b, r0 * rowBytes);
            }
        } catch (RuntimeException e) {
            b.close();
            throw e;
        }
        weightBytes += b.byteSize();
        if (converted.size() < 8) converted.add(m.name() + " (" + m.type().ggmlName() + ")");
        return new DeviceWeights(m.name(), GgmlType.F32, b, m.rows(), m.cols(), rowBytes);
    }

    /** The context everything lives in. */
    public CudaContext context() {
        return ctx;
    }

    /** The model's configuration. */
    public ModelConfig config() {
        return config;
    }

    /** Decoder blocks on the GPU: the first ones. */
    public int gpuLayers() {
        return gpuLayers;
    }

    /** True when every block and the output run on the GPU. */
    public boolean offloadsAll() {
        return full();
    }

    /** Device bytes of the uploaded weights. */
    public long weightBytes() {
        return weightBytes;
    }

    /** Up to eight matrices that were dequantized to F32 because the kernels do not read their type. */
    public List<String> convertedToF32() {
        return List.copyOf(converted);
    }

    Layer layer(int l) {
        return layers.get(l);
    }

    DeviceWeights tokenEmbd() {
        return tokenEmbd;
    }

    DeviceWeights output() {
        return output;
    }

    DeviceBuffer outputNorm() {
        return outputNorm;
    }

    DeviceBuffer[] rope(boolean sliding) {
        return sliding ? ropeSliding : rope;
    }

    /** Frees the device memory and releases the context. */
    @Override
    public void close() {
        if (closed) return;
        closed = true;
        ctx.close();
    }
}
