package dev.kiri.runtime.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.kiri.gguf.Fixtures;
import org.junit.jupiter.api.Test;

class BenchCommandTest {
    private static final String MODEL = Fixtures.file("models/tiny-llama-Q4_0.gguf").toString();

    @Test
    void jsonOutputParsesAndHasTheFields() throws Exception {
        CliRun r = CliRun.of("bench", "-m", MODEL, "-p", "12", "-n", "5", "-t", "1", "-r", "3", "--bandwidth-mib", "32", "--json");
        assertEquals(0, r.status(), r.err());
        JsonNode j = new ObjectMapper().readTree(r.out());
        assertEquals("tiny-llama-Q4_0.gguf", j.get("model").asText());
        assertEquals(1, j.get("threads").asInt());
        assertTrue(j.get("backend").asText().matches("scalar|vector.*"), j.toString());
        assertEquals(12, j.get("prompt_tokens").asInt());
        assertEquals(5, j.get("decode_tokens").asInt());
        assertEquals(3, j.get("prompt_tps").size());
        double pMed = j.get("prompt_tps_median").asDouble();
        double dMed = j.get("decode_tps_median").asDouble();
        assertTrue(pMed > 0 && dMed > 0, j.toString());
        assertTrue(j.get("prompt_tps_min").asDouble() <= pMed && pMed <= j.get("prompt_tps_max").asDouble(), j.toString());
        assertTrue(j.get("decode_tps_min").asDouble() <= dMed && dMed <= j.get("decode_tps_max").asDouble(), j.toString());
        assertTrue(j.get("decode_alloc_bytes_per_token_median").asDouble() >= 0, j.toString());
        // Every layer matrix and the output matrix in Q4_0 (18 bytes per 32 weights; with the vector
        // kernels their interleaved copies are read instead, as large), plus one embedding row.
        boolean vector = j.get("backend").asText().startsWith("vector");
        long layer = (256 * 256 + 2 * 128 * 256 + 256 * 256 + 3 * 512 * 256) / 32 * 18;
        long expected = 2 * layer + 512 * 256 / 32 * 18 + 256 / 32 * 18;
        assertEquals(expected, j.get("weight_bytes_per_token").asLong());
        // The copies: every layer matrix and the output matrix.
        long copies = vector ? 2 * layer + 512 * 256 / 32 * 18 : 0;
        assertEquals(copies, j.get("interleaved_bytes").asLong());
        assertTrue(j.get("copies_from_cache").isBoolean(), j.toString());
        if (copies == 0) assertTrue(!j.get("copies_from_cache").asBoolean(), j.toString());
        double bw = j.get("bandwidth_gbs").asDouble();
        assertTrue(bw > 0.1, j.toString());
        assertEquals(dMed * expected / (bw * 1e9), j.get("decode_bandwidth_fraction").asDouble(), 1e-3 * j.get("decode_bandwidth_fraction").asDouble() + 1e-9);
    }

    @Test
    void textOutputNamesMedianAndSpread() {
        CliRun r = CliRun.of("bench", "-m", MODEL, "-p", "8", "-n", "4", "-t", "1", "-r", "1", "--bandwidth-mib", "0");
        assertEquals(0, r.status(), r.err());
        assertTrue(r.out().matches("(?s).*prompt\\s+8 tokens\\s+[\\d.]+ tok/s median\\s+\\(min [\\d.]+, max [\\d.]+, 1 reps\\).*"), r.out());
        assertTrue(r.out().matches("(?s).*decode\\s+4 tokens\\s+[\\d.]+ tok/s median.*"), r.out());
        assertTrue(r.out().matches("(?s).*heap\\s+\\d+ bytes allocated per decode token \\(median\\).*"), r.out());
    }

    @Test
    void aMissingModelIsAOneLineError() {
        CliRun r = CliRun.of("bench", "-m", "no-such-model.gguf");
        assertEquals(1, r.status());
        assertTrue(r.err().contains("kiri bench: no such file: no-such-model.gguf"), r.err());
    }
}
