package dev.kiri.kernels;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.api.Test;

class KvCacheTest {

    @Test
    void storedKeysAndValuesReadBackPerHeadPositionAndDimension() {
        int kvHeads = 3, headDim = 5, capacity = 37; // not a whole number of key tiles
        KvCache cache = new KvCache(2, kvHeads, headDim, capacity, KvCache.Type.F32);
        float[] k = new float[kvHeads * headDim];
        float[] v = new float[kvHeads * headDim];
        for (int p = 0; p < capacity; p++) {
            for (int i = 0; i < k.length; i++) {
                k[i] = 1000 * p + i;
                v[i] = -(1000 * p + i);
            }
            cache.store(1, p, k, 0, v, 0);
        }
        for (int p = 0; p < capacity; p++) {
            for (int h = 0; h < kvHeads; h++) {
                for (int d = 0; d < headDim; d++) {
                    assertEquals(1000 * p + h * headDim + d, cache.key(1, h, p, d), "key p" + p + " h" + h + " d" + d);
                    assertEquals(-(1000 * p + h * headDim + d), cache.value(1, h, p, d), "value p" + p + " h" + h + " d" + d);
                    assertEquals(0f, cache.key(0, h, p, d), "other layer untouched");
                }
            }
        }
        // the documented tile layout
        int h = 2, p = 21, d = 3;
        assertEquals(cache.key(1, h, p, d), cache.keysF32(1)[cache.keyTileIndex(h, p) + d * KvCache.KEY_TILE + p % KvCache.KEY_TILE]);
        assertEquals(cache.value(1, h, p, d), cache.valuesF32(1)[cache.valueIndex(h, p) + d]);
    }

    @Test
    void aCacheFromALaterLayerHoldsOnlyThoseLayers() {
        for (KvCache.Type t : KvCache.Type.values()) {
            KvCache full = new KvCache(4, 2, 8, 20, t);
            KvCache tail = new KvCache(4, 3, 2, 8, 20, t);
            assertEquals(3, tail.firstLayer());
            assertEquals(full.byteSize() / 4, tail.byteSize());
            float[] k = new float[16], v = new float[16];
            for (int i = 0; i < 16; i++) {
                k[i] = i + 0.5f;
                v[i] = -i;
            }
            tail.store(3, 19, k, 0, v, 0);
            assertEquals(15.5f, tail.key(3, 1, 19, 7));
            assertEquals(-15f, tail.value(3, 1, 19, 7));
            assertThrows(ArrayIndexOutOfBoundsException.class, () -> tail.store(2, 0, k, 0, v, 0));
        }
        assertThrows(IllegalArgumentException.class, () -> new KvCache(4, 5, 2, 8, 20, KvCache.Type.F32));
        assertEquals(0, new KvCache(4, 4, 2, 8, 20, KvCache.Type.F16).byteSize());
    }

    @Test
    void f16CacheRoundsToHalfPrecision() {
        KvCache cache = new KvCache(1, 1, 4, 3, KvCache.Type.F16);
        float[] k = {0.1f, -2.5f, 65504f, 1e-8f};
        cache.store(0, 2, k, 0, k, 0);
        for (int d = 0; d < 4; d++) {
            float rounded = Float.float16ToFloat(Float.floatToFloat16(k[d]));
            assertEquals(rounded, cache.key(0, 0, 2, d));
            assertEquals(rounded, cache.value(0, 0, 2, d));
        }
        assertEquals(2L * 16 * 4 * 2, cache.byteSize()); // capacity rounded up to one tile
    }

    @Test
    void positionsOutsideTheCapacityAndBadShapesAreRejected() {
        KvCache cache = new KvCache(1, 1, 4, 3, KvCache.Type.F32);
        float[] k = new float[4];
        assertThrows(IndexOutOfBoundsException.class, () -> cache.store(0, 3, k, 0, k, 0));
        assertThrows(IndexOutOfBoundsException.class, () -> cache.store(0, -1, k, 0, k, 0));
        assertThrows(IllegalArgumentException.class, () -> new KvCache(1, 0, 4, 3, KvCache.Type.F32));
        assertThrows(IllegalArgumentException.class, () -> new KvCache(1, 1 << 16, 1 << 10, 1 << 16, KvCache.Type.F16));
    }
}
