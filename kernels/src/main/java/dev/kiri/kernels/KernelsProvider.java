package dev.kiri.kernels;

import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;

/**
 * Chooses the {@link Kernels} implementation once per JVM, the way Lucene chooses its
 * vectorization provider:
 * <ol>
 *   <li>{@code -Dkiri.vector.disable=true}: scalar;</li>
 *   <li>{@code jdk.incubator.vector} not in the boot layer (the JVM was started without
 *       {@code --add-modules jdk.incubator.vector}): scalar, with a warning naming the flag;</li>
 *   <li>otherwise the Vector API implementation, loaded by name through a method handle so that
 *       no Vector API class is touched before the checks. It refuses when the preferred vector
 *       size is under 256 bits (narrow SIMD is slower than scalar for these kernels) unless
 *       {@code -Dkiri.vector.force=true}, and then scalar is used.</li>
 * </ol>
 * The Vector API kernels use at most {@code -Dkiri.vector.maxBits} bits (default 256, also on
 * AVX-512 machines: {@link #maxVectorBits()} says why).
 * The choice is logged once ({@code System.Logger} "dev.kiri.kernels").
 */
public final class KernelsProvider {
    /** System property that turns the Vector API implementation off. */
    public static final String DISABLE_PROPERTY = "kiri.vector.disable";
    /** System property that uses the Vector API implementation even on narrow vectors. */
    public static final String FORCE_PROPERTY = "kiri.vector.force";
    /** System property: the widest vectors the Vector API kernels use, in bits ({@link #maxVectorBits()}). */
    public static final String MAX_BITS_PROPERTY = "kiri.vector.maxBits";
    /** The default of {@link #MAX_BITS_PROPERTY}. */
    public static final int DEFAULT_MAX_BITS = 256;
    /** System property: the widest vectors of the prefill micro-kernel, in bits ({@link #gemmMaxBits()}). */
    public static final String GEMM_MAX_BITS_PROPERTY = "kiri.vector.gemmMaxBits";
    /** System property: the widest vectors of the decode kernels of the Q4_0, Q8_0, Q4_K, Q5_K and Q6_K copies, in bits ({@link #decodeMaxBits()}). */
    public static final String DECODE_MAX_BITS_PROPERTY = "kiri.vector.decodeMaxBits";

    private static final System.Logger LOG = System.getLogger("dev.kiri.kernels");
    private static final String VECTOR_CLASS = "dev.kiri.kernels.VectorKernels";

    private KernelsProvider() {
    }

    /**
     * A new {@link Kernels} of the chosen implementation with its own pool of {@code threads}
     * threads (the scalar implementation uses the caller's thread only). Close it when done.
     */
    public static Kernels create(int threads) {
        if (threads < 1) throw new IllegalArgumentException("thread count must be at least 1: " + threads);
        MethodHandle vector = Choice.VECTOR_CONSTRUCTOR;
        if (vector == null) return new ScalarKernels();
        try {
            return (Kernels) vector.invoke(threads);
        } catch (RuntimeException | Error e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException("cannot create the Vector API kernels", t);
        }
    }

    /** "scalar" or "vector": what {@link #create} returns in this JVM. */
    public static String implementation() {
        return Choice.VECTOR_CONSTRUCTOR == null ? "scalar" : "vector";
    }

    /**
     * The widest vectors the Vector API kernels use: {@code -Dkiri.vector.maxBits} (a power of two,
     * at least 256), by default 256 bits even where the machine has 512. The decode kernels are
     * 256-bit; a process that also ran 512-bit code through the Vector API's shared methods
     * sometimes had its decode kernels compiled with every vector boxed, decoding about three times
     * slower for its whole life (docs/KERNELS.md, "One vector width per process"). 512 bits make
     * prefill faster on machines that have them, at that risk. An invalid value is logged and the
     * default used.
     */
    public static int maxVectorBits() {
        return bitsProperty(MAX_BITS_PROPERTY, DEFAULT_MAX_BITS, "using " + DEFAULT_MAX_BITS);
    }

    /**
     * The widest vectors of the prefill micro-kernel ({@code VectorGemm}'s multiply-adds of float
     * panels and activations): {@code -Dkiri.vector.gemmMaxBits} (a power of two, at least 256),
     * by default no cap, so the machine's widest (512 bits with AVX-512), whatever
     * {@link #maxVectorBits()} says. That kernel calls no Vector API method shared by the species
     * ({@code fma}, {@code add}, ...): its multiply-adds are {@code lanewise(FMA, ...)} at its own call
     * site, the rest static factories with a constant species, so its wider vectors never reach the
     * shared type profiles that the 256-bit kernels are compiled against (docs/KERNELS.md, "The
     * prefill micro-kernel at the machine's width"). An invalid value is logged and no cap used.
     */
    public static int gemmMaxBits() {
        return GemmCap.BITS;
    }

    /** {@link #gemmMaxBits()}, read once (so an invalid value is logged once). */
    private static final class GemmCap {
        static final int BITS = readGemmMaxBits();
    }

    private static int readGemmMaxBits() {
        return bitsProperty(GEMM_MAX_BITS_PROPERTY, Integer.MAX_VALUE, "the machine's widest vectors are used");
    }

    /**
     * The widest vectors of the decode kernels of the Q4_0, Q8_0, Q4_K, Q5_K and Q6_K copies:
     * {@code -Dkiri.vector.decodeMaxBits} (a power of two, at least 256), by default no cap, so 512
     * bits on AVX-512 machines whatever {@link #maxVectorBits()} says. Those 512-bit kernels, like
     * the prefill micro-kernel, call no Vector API method shared by the species (docs/KERNELS.md,
     * "The Q4_0 and Q8_0 decode kernels at 512 bits", "The Q4_K, Q5_K and Q6_K decode kernels at 512 bits").
     * An invalid value is logged and no cap used.
     */
    public static int decodeMaxBits() {
        return DecodeCap.BITS;
    }

    /**
     * Whether the decode kernels of the Q4_0, Q8_0, Q4_K, Q5_K and Q6_K copies run at 512 bits on a JVM
     * whose preferred vectors have {@code machineBits} bits: it prefers 512-bit vectors (AVX-512 with
     * its byte and short instructions) and {@link #decodeMaxBits()} allows them.
     */
    public static boolean wideDecode(int machineBits) {
        return machineBits >= 512 && decodeMaxBits() >= 512;
    }

    /** {@link #decodeMaxBits()}, read once (so an invalid value is logged once). */
    private static final class DecodeCap {
        static final int BITS = bitsProperty(DECODE_MAX_BITS_PROPERTY, Integer.MAX_VALUE, "the machine's widest vectors are used");
    }

    /**
     * The vector width named by system property {@code property}: a power of two of at least 256
     * bits; {@code otherwise} when unset, and when invalid, which is logged with
     * {@code otherwiseText} saying what is used instead.
     */
    private static int bitsProperty(String property, int otherwise, String otherwiseText) {
        String value = System.getProperty(property);
        if (value == null) return otherwise;
        try {
            int bits = Integer.parseInt(value.strip());
            if (bits >= 256 && Integer.bitCount(bits) == 1) return bits;
        } catch (NumberFormatException e) {
            // logged below
        }
        LOG.log(System.Logger.Level.WARNING, "kernels: -D" + property + "=" + value
                + " is not a power of two of at least 256 bits; " + otherwiseText);
        return otherwise;
    }

    /** The decision, taken when first needed. */
    private static final class Choice {
        static final MethodHandle VECTOR_CONSTRUCTOR = choose();
    }

    private static MethodHandle choose() {
        if (Boolean.getBoolean(DISABLE_PROPERTY)) {
            LOG.log(System.Logger.Level.INFO, "kernels: scalar (Vector API disabled by -D" + DISABLE_PROPERTY + "=true)");
            return null;
        }
        if (ModuleLayer.boot().findModule("jdk.incubator.vector").isEmpty()) {
            LOG.log(System.Logger.Level.WARNING, "kernels: scalar, slow. The Vector API module is not loaded;"
                    + " start Java with --add-modules jdk.incubator.vector for the SIMD kernels");
            return null;
        }
        try {
            MethodHandles.Lookup lookup = MethodHandles.lookup();
            Class<?> cls = Class.forName(VECTOR_CLASS);
            MethodHandle bits = lookup.findStatic(cls, "preferredBitSize", MethodType.methodType(int.class));
            int preferred = (int) bits.invokeExact();
            int machine = (int) lookup.findStatic(cls, "machineBitSize", MethodType.methodType(int.class)).invokeExact();
            boolean force = Boolean.getBoolean(FORCE_PROPERTY);
            if (preferred < 256 && !force) {
                LOG.log(System.Logger.Level.WARNING, "kernels: scalar. The preferred vector size is " + preferred
                        + " bits, under 256 (-D" + FORCE_PROPERTY + "=true uses the Vector API anyway)");
                return null;
            }
            MethodHandle ctor = lookup.findConstructor(cls, MethodType.methodType(void.class, int.class))
                    .asType(MethodType.methodType(Kernels.class, int.class));
            int gemm = machine <= Math.max(gemmMaxBits(), preferred) ? machine : preferred;
            LOG.log(System.Logger.Level.INFO, "kernels: Vector API, " + preferred + "-bit vectors"
                    + (preferred < 256 ? " (forced)" : "")
                    + (machine > preferred ? " (the machine has " + machine + "; -D" + MAX_BITS_PROPERTY + "=" + machine + " uses them)" : "")
                    + (gemm > preferred ? "; prefill micro-kernel " + gemm + "-bit" : "")
                    + (preferred < 512 && wideDecode(machine) ? "; Q4_0, Q8_0, Q4_K, Q5_K and Q6_K decode 512-bit" : ""));
            return ctor;
        } catch (Throwable t) {
            LOG.log(System.Logger.Level.WARNING, "kernels: scalar, slow. The Vector API kernels failed to load: " + t);
            return null;
        }
    }
}
