package dev.kiri.kernels;

/**
 * Precomputed rotary-embedding cosines and sines: for position {@code p} and pair {@code i}
 * ({@code 0 <= i < ropeDim/2}) the angle is {@code p * theta_i / freqFactor[i] * linearScale}
 * where {@code theta_0 = 1} and {@code theta_{i+1} = theta_i * base^(-2/ropeDim)} built by repeated
 * float multiplication, as llama.cpp does (this matters at the 1e-7 level).
 *
 * <p>Llama 3.1's rope scaling arrives in GGUF as per-pair {@code freqFactors} (the
 * {@code rope_freqs.weight} tensor); {@link #llama3FreqFactors} derives the same factors from the
 * scaling parameters when a file lacks that tensor.
 */
public final class RopeTable {
    private final int ropeDim;
    private final int maxPositions;
    private final float[] cos; // [pos][ropeDim/2]
    private final float[] sin;

    private RopeTable(int ropeDim, int maxPositions, float[] cos, float[] sin) {
        this.ropeDim = ropeDim;
        this.maxPositions = maxPositions;
        this.cos = cos;
        this.sin = sin;
    }

    /**
     * @param ropeDim      rotated dimensions per head (even)
     * @param maxPositions positions the table covers
     * @param base         {@code rope.freq_base}
     * @param freqFactors  per-pair divisors of the frequency, or null
     * @param linearScale  position scale ({@code 1 / rope.scaling.factor} for linear scaling, else 1)
     */
    public static RopeTable create(int ropeDim, int maxPositions, float base, float[] freqFactors, float linearScale) {
        if (ropeDim <= 0 || (ropeDim & 1) != 0) throw new IllegalArgumentException("rope dimension must be even and positive: " + ropeDim);
        if (maxPositions <= 0) throw new IllegalArgumentException("maxPositions must be positive: " + maxPositions);
        int half = ropeDim / 2;
        if (freqFactors != null && freqFactors.length < half) {
            throw new IllegalArgumentException("rope freq factors: " + freqFactors.length + " values, need " + half);
        }
        long n = (long) maxPositions * half;
        if (n > Integer.MAX_VALUE - 16) throw new IllegalArgumentException("rope table too large: " + maxPositions + " x " + half);
        float[] cos = new float[(int) n];
        float[] sin = new float[(int) n];
        float thetaScale = (float) Math.pow(base, -2.0 / ropeDim);
        for (int p = 0; p < maxPositions; p++) {
            float theta = p * linearScale;
            for (int i = 0; i < half; i++) {
                float t = freqFactors != null ? theta / freqFactors[i] : theta;
                cos[p * half + i] = (float) Math.cos(t);
                sin[p * half + i] = (float) Math.sin(t);
                theta *= thetaScale;
            }
        }
        return new RopeTable(ropeDim, maxPositions, cos, sin);
    }

    /**
     * Llama 3 rope scaling as frequency divisors: long wavelengths (beyond
     * {@code originalContext / lowFreqFactor}) are slowed by {@code factor}, short ones (below
     * {@code originalContext / highFreqFactor}) are kept, and the band between is interpolated.
     */
    public static float[] llama3FreqFactors(int ropeDim, float base, float factor, float lowFreqFactor,
                                            float highFreqFactor, int originalContext) {
        int half = ropeDim / 2;
        float[] out = new float[half];
        double lowWavelen = originalContext / lowFreqFactor;
        double highWavelen = originalContext / highFreqFactor;
        for (int i = 0; i < half; i++) {
            double freq = Math.pow(base, -2.0 * i / ropeDim);
            double wavelen = 2 * Math.PI / freq;
            if (wavelen < highWavelen) {
                out[i] = 1f;
            } else if (wavelen > lowWavelen) {
                out[i] = factor;
            } else {
                double smooth = (originalContext / wavelen - lowFreqFactor) / (highFreqFactor - lowFreqFactor);
                out[i] = (float) (1.0 / ((1 - smooth) / factor + smooth));
            }
        }
        return out;
    }

    public int ropeDim() {
        return ropeDim;
    }

    public int maxPositions() {
        return maxPositions;
    }

    /** cos of pair {@code i} at position {@code pos}. */
    public float cos(int pos, int i) {
        return cos[pos * (ropeDim / 2) + i];
    }

    public float sin(int pos, int i) {
        return sin[pos * (ropeDim / 2) + i];
    }

    /** The raw cosine table, {@code [pos][ropeDim/2]}, for kernels. */
    public float[] cosTable() {
        return cos;
    }

    /** The raw sine table, {@code [pos][ropeDim/2]}, for kernels. */
    public float[] sinTable() {
        return sin;
    }
}
