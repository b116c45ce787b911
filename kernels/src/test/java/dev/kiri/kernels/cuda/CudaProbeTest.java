package dev.kiri.kernels.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** The probe on any machine: a missing driver is an answer with a reason, never a crash. */
class CudaProbeTest {

    @Test
    void aLibraryThatIsNotThereIsReportedAsNoDriver() {
        CudaProbe.Availability a = CudaProbe.probe("libkiri-no-such-driver.so.1");
        assertFalse(a.available());
        assertTrue(a.reason().startsWith("no CUDA driver: libkiri-no-such-driver.so.1 cannot be loaded"), a.reason());
        assertEquals(0, a.deviceCount());
        CudaUnavailableException e = assertThrows(CudaUnavailableException.class, a::require);
        assertTrue(e.getMessage().startsWith("CUDA is not available: no CUDA driver"), e.getMessage());
    }

    @Test
    void thePropertyDisablesCudaWithoutLooking() {
        System.setProperty("kiri.cuda.disable", "true");
        try {
            CudaProbe.Availability a = CudaProbe.probe(CudaProbe.LIBRARY);
            assertFalse(a.available());
            assertEquals("disabled by -Dkiri.cuda.disable=true", a.reason());
        } finally {
            System.clearProperty("kiri.cuda.disable");
        }
    }

    @Test
    void openingAContextWithoutCudaSaysWhy() {
        CudaProbe.Availability a = CudaProbe.availability();
        System.out.println("[cuda] " + a);
        if (a.available()) {
            assertTrue(a.deviceCount() > 0);
            assertTrue(a.driverVersion() >= CudaProbe.MIN_DRIVER_VERSION);
        } else {
            CudaUnavailableException e = assertThrows(CudaUnavailableException.class, () -> CudaContext.open(0));
            assertEquals("CUDA is not available: " + a.reason(), e.getMessage());
            // and again: the failed probe left nothing half-initialised behind
            assertThrows(CudaUnavailableException.class, () -> CudaContext.open(0));
        }
    }

    @Test
    void versionsFormatAsTheDriverCountsThem() {
        assertEquals("13.0", CudaProbe.versionString(13000));
        assertEquals("12.8", CudaProbe.versionString(12080));
    }
}
