package dev.kiri.runtime.model;

import dev.kiri.gguf.Dequant;
import dev.kiri.kernels.Kernels;
import dev.kiri.kernels.KvCache;
import dev.kiri.kernels.RopeTable;
import dev.kiri.kernels.Weights;

/**
 * The CPU reference of the GPU's arithmetic, for the GPU tests: matrix products on dequantized
 * weights with F32 activations (no F16 rounding or 8-bit quantization of the activations, which the
 * CPU kernels do to match llama.cpp), and, for batches of {@code tf32MinColumns} or more tokens,
 * both inputs rounded to TF32 (10 mantissa bits, to nearest, ties away from zero) as the
 * tensor-core product does. Every other operation is the wrapped kernels'.
 */
final class Tf32Kernels implements Kernels {
    private final Kernels k;
    private final int tf32MinColumns;

    Tf32Kernels(Kernels k, int tf32MinColumns) {
        this.k = k;
        this.tf32MinColumns = tf32MinColumns;
    }

    /** {@code cvt.rna.tf32.f32}: round to 10 mantissa bits, ties away from zero. */
    static float tf32(float v) {
        if (!Float.isFinite(v)) return v;
        return Float.intBitsToFloat((Float.floatToRawIntBits(v) + 0x1000) & 0xFFFFE000);
    }

    private static void product(Weights w, float[] x, int xOff, float[] y, int yOff, int n, boolean round) {
        float[] row = new float[w.cols()];
        float[] xs = new float[n * w.cols()];
        for (int i = 0; i < xs.length; i++) xs[i] = round ? tf32(x[xOff + i]) : x[xOff + i];
        for (int r = 0; r < w.rows(); r++) {
            Dequant.row(w.type(), w.data(), (long) r * w.rowBytes(), row, 0, w.cols());
            if (round) for (int c = 0; c < row.length; c++) row[c] = tf32(row[c]);
            for (int t = 0; t < n; t++) {
                float s = 0;
                for (int c = 0; c < row.length; c++) s += row[c] * xs[t * w.cols() + c];
                y[yOff + t * w.rows() + r] = s;
            }
        }
    }

    @Override public String name() { return "tf32-reference"; }
    @Override public int threads() { return 1; }
    @Override public void matvec(Weights w, float[] x, int xOff, float[] y, int yOff) { product(w, x, xOff, y, yOff, 1, false); }
    @Override public void matmul(Weights w, float[] x, float[] y, int n) { product(w, x, 0, y, 0, n, n >= tf32MinColumns); }
    @Override public void rmsnorm(float[] out, int outOff, float[] x, int xOff, float[] weight, int size, float eps) { k.rmsnorm(out, outOff, x, xOff, weight, size, eps); }
    @Override public void layernorm(float[] out, int outOff, float[] x, int xOff, float[] weight, float[] bias, int size, float eps) { k.layernorm(out, outOff, x, xOff, weight, bias, size, eps); }
    @Override public void rope(float[] x, int off, int nHeads, int headDim, int pos, RopeTable table, boolean neox) { k.rope(x, off, nHeads, headDim, pos, table, neox); }
    @Override public void softmax(float[] x, int off, int n) { k.softmax(x, off, n); }
    @Override public void silu(float[] x, int off, int n) { k.silu(x, off, n); }
    @Override public void gelu(float[] x, int off, int n) { k.gelu(x, off, n); }
    @Override public void swiglu(float[] out, int outOff, float[] gate, int gateOff, float[] up, int upOff, int n) { k.swiglu(out, outOff, gate, gateOff, up, upOff, n); }
    @Override public void geglu(float[] out, int outOff, float[] gate, int gateOff, float[] up, int upOff, int n) { k.geglu(out, outOff, gate, gateOff, up, upOff, n); }
    @Override public void add(float[] out, int outOff, float[] a, int aOff, float[] b, int bOff, int n) { k.add(out, outOff, a, aOff, b, bOff, n); }
    @Override public void mul(float[] out, int outOff, float[] a, int aOff, float[] b, int bOff, int n) { k.mul(out, outOff, a, aOff, b, bOff, n); }
    @Override public void scale(float[] x, int off, int n, float s) { k.scale(x, off, n, s); }
    @Override public void softcap(float[] x, int off, int n, float cap) { k.softcap(x, off, n, cap); }
    @Override public int argmax(float[] x, int off, int n) { return k.argmax(x, off, n); }
    @Override public void attention(float[] q, float[] out, int n, int nHeads, KvCache cache, int layer, int pos0, int window, float scale, float softcap) {
        k.attention(q, out, n, nHeads, cache, layer, pos0, window, scale, softcap);
    }
    @Override public void close() { }
}
