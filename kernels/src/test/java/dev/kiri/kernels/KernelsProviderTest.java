package dev.kiri.kernels;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;

import org.junit.jupiter.api.Test;

/**
 * The provider's choice in this JVM. The build runs this class three times (see the surefire
 * executions in the module's pom): with the Vector API module (expects "vector"), without it
 * (expects "scalar"), and with {@code -Dkiri.vector.disable=true} (expects "scalar"); each run
 * passes its expectation in {@code kiri.test.expectedKernels}.
 */
class KernelsProviderTest {

    @Test
    void choosesTheExpectedImplementationAndItComputes() {
        String expected = System.getProperty("kiri.test.expectedKernels");
        assertNotNull(expected, "the build must set kiri.test.expectedKernels for this test");
        assertEquals(expected, KernelsProvider.implementation());
        try (Kernels k = KernelsProvider.create(2)) {
            assertEquals(expected, k.name().startsWith("vector") ? "vector" : k.name());
            float[] x = {3f, -1f, 4f, 1f, -5f, 9f, 2f, 6f, 5f, 3f, 5f};
            float[] out = new float[x.length];
            k.rmsnorm(out, 0, x, 0, null, x.length, 0f);
            double ms = 0;
            for (float v : x) ms += v * v;
            double inv = 1 / Math.sqrt(ms / x.length);
            for (int i = 0; i < x.length; i++) assertEquals(x[i] * inv, out[i], 1e-5, "rmsnorm[" + i + "]");
            assertEquals(5, k.argmax(x, 0, x.length));
            float[] p = x.clone();
            k.softmax(p, 0, p.length);
            double sum = 0;
            for (float v : p) sum += v;
            assertEquals(1.0, sum, 1e-5);
        }
    }

    /** The width cap: a power of two of at least 256 bits, else the default (with a warning). */
    @Test
    void maxVectorBitsReadsItsPropertyAndRefusesNonsense() {
        String saved = System.getProperty(KernelsProvider.MAX_BITS_PROPERTY);
        try {
            System.clearProperty(KernelsProvider.MAX_BITS_PROPERTY);
            assertEquals(KernelsProvider.DEFAULT_MAX_BITS, KernelsProvider.maxVectorBits());
            assertEquals(256, KernelsProvider.DEFAULT_MAX_BITS);
            for (String good : new String[] {"256", "512", " 1024 ", "2048"}) {
                System.setProperty(KernelsProvider.MAX_BITS_PROPERTY, good);
                assertEquals(Integer.parseInt(good.strip()), KernelsProvider.maxVectorBits(), good);
            }
            for (String bad : new String[] {"128", "384", "0", "-512", "wide", ""}) {
                System.setProperty(KernelsProvider.MAX_BITS_PROPERTY, bad);
                assertEquals(KernelsProvider.DEFAULT_MAX_BITS, KernelsProvider.maxVectorBits(), bad);
            }
        } finally {
            if (saved == null) System.clearProperty(KernelsProvider.MAX_BITS_PROPERTY);
            else System.setProperty(KernelsProvider.MAX_BITS_PROPERTY, saved);
        }
    }
}
