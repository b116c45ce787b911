package dev.kiri.kernels;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorSpecies;

/**
 * The float vector species of every Vector API kernel whose width follows the machine: the
 * preferred species, capped at {@link KernelsProvider#maxVectorBits()} bits (256 unless
 * {@code -Dkiri.vector.maxBits} says otherwise). The decode kernels are 256-bit by construction,
 * but for those of the Q4_0, Q8_0, Q4_K, Q5_K and Q6_K copies ({@link #WIDE_DECODE}), so with the cap every kernel
 * that uses the Vector API's shared methods runs at one width per element type.
 *
 * <p>Why one width: the Vector API's convenience methods ({@code add}, {@code and(int)},
 * {@code fma}, ...) are shared by all species, and the virtual calls inside them carry one type
 * profile for the whole JVM. C2 inlines the kernels' vector intrinsics late, so at parse time it
 * dispatches those calls by the profile. When 512-bit code (prefill panels, norms) had run through
 * them often enough before a 256-bit decode kernel was compiled, C2 inlined both species'
 * versions, the merged value lost its exact type and every vector of that kernel was boxed for
 * the JVM's lifetime: about one JVM in four decoded three times slower on an AVX-512 machine
 * (docs/KERNELS.md, "One vector width per process"). AVX2 machines have one width anyway.
 *
 * <p>Loads Vector API classes: touch it only from Vector API code.
 */
public final class VectorWidth {
    /** The cap in bits ({@link KernelsProvider#maxVectorBits()}, read once). */
    private static final int MAX_BITS = KernelsProvider.maxVectorBits();
    /**
     * The species of the width-following kernels ({@code VectorKernels}, {@code VectorGemm}). (An
     * expression, not a method: no kernel-package method takes or returns Vector API values.)
     */
    public static final VectorSpecies<Float> FLOAT = FloatVector.SPECIES_PREFERRED.vectorBitSize() <= MAX_BITS
            ? FloatVector.SPECIES_PREFERRED : VectorSpecies.of(float.class, VectorShape.forBitSize(MAX_BITS));

    /**
     * The species of {@code VectorGemm}'s micro-kernel: the preferred species capped at
     * {@link KernelsProvider#gemmMaxBits()} (by default not capped: 512 bits on AVX-512 machines),
     * with at least {@link #FLOAT}'s width. That kernel uses no Vector API method that is shared by
     * the species, so its width does not reach the 256-bit kernels' type profiles.
     */
    public static final VectorSpecies<Float> GEMM_FLOAT = FloatVector.SPECIES_PREFERRED.vectorBitSize() <= Math.max(KernelsProvider.gemmMaxBits(), FLOAT.vectorBitSize())
            ? FloatVector.SPECIES_PREFERRED : FLOAT;

    /**
     * Whether the decode kernels of the Q4_0, Q8_0, Q4_K, Q5_K and Q6_K copies run at 512 bits
     * ({@code WideDots}; {@link KernelsProvider#wideDecode}). Those kernels use no Vector API method
     * shared by the species.
     */
    public static final boolean WIDE_DECODE = KernelsProvider.wideDecode(FloatVector.SPECIES_PREFERRED.vectorBitSize());

    /**
     * Whether the machine has AVX-512's 32 vector registers (taken to be so when the JVM prefers
     * 512-bit vectors): {@code VectorGemm} then holds a larger tile of accumulators at 256 bits. With
     * AVX2's 16 registers that tile spills and runs at half speed.
     */
    public static final boolean WIDE_REGISTER_FILE = FloatVector.SPECIES_PREFERRED.vectorBitSize() >= 512;

    private VectorWidth() {
    }
}
