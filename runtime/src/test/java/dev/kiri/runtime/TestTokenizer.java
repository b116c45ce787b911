package dev.kiri.runtime;

import dev.kiri.gguf.GgufMetadata;
import dev.kiri.runtime.tokenizer.Tokenizer;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * A small tokenizer over a fixture model's SentencePiece vocabulary, for the generation tests:
 * pieces to bytes as SentencePiece does ({@code ▁} is a space, {@code <0xXX>} a byte, control tokens
 * nothing), and a greedy longest-match encoder (not SentencePiece's merges: good enough to give a
 * prompt, not to reproduce llama.cpp's ids).
 */
final class TestTokenizer implements Tokenizer {
    private final String[] pieces;
    private final int[] types;
    private final byte[][] bytes;
    private final Map<String, Integer> ids = new HashMap<>();
    private final int bos;
    private final int eos;

    TestTokenizer(GgufMetadata md) {
        pieces = md.getStringArray("tokenizer.ggml.tokens");
        types = md.getIntArray("tokenizer.ggml.token_type");
        bos = md.getInt("tokenizer.ggml.bos_token_id");
        eos = md.getInt("tokenizer.ggml.eos_token_id");
        bytes = new byte[pieces.length][];
        for (int i = 0; i < pieces.length; i++) {
            String p = pieces[i];
            if (types[i] == 6) bytes[i] = new byte[] {(byte) Integer.parseInt(p.substring(3, 5), 16)};
            else if (types[i] == 3) bytes[i] = new byte[0];
            else bytes[i] = p.replace('\u2581', ' ').getBytes(StandardCharsets.UTF_8);
            if (types[i] == 1) ids.put(p, i);
        }
    }

    @Override
    public int vocabularySize() {
        return pieces.length;
    }

    @Override
    public int[] encode(String text, boolean addSpecial, boolean parseSpecial) {
        List<Integer> out = new ArrayList<>();
        if (addSpecial) out.add(bos);
        if (parseSpecial) {
            String[] parts = text.split("<s>", -1);
            for (int p = 0; p < parts.length; p++) {
                if (p > 0) out.add(bos);
                if (!parts[p].isEmpty()) encodePlain(parts[p], out);
            }
        } else if (!text.isEmpty()) {
            encodePlain(text, out);
        }
        return out.stream().mapToInt(Integer::intValue).toArray();
    }

    private void encodePlain(String text, List<Integer> out) {
        String s = ("\u2581" + text).replace(' ', '\u2581');
        int i = 0;
        while (i < s.length()) {
            int best = -1;
            int len = 0;
            for (int j = s.length(); j > i; j--) {
                Integer id = ids.get(s.substring(i, j));
                if (id != null) {
                    best = id;
                    len = j - i;
                    break;
                }
            }
            if (best < 0) {
                int cp = s.codePointAt(i);
                len = Character.charCount(cp);
                for (byte b : new String(Character.toChars(cp)).getBytes(StandardCharsets.UTF_8)) out.add(3 + (b & 0xFF));
            } else {
                out.add(best);
            }
            i += len;
        }
    }

    @Override
    public byte[] tokenBytes(int id, boolean special) {
        if (id < 0 || id >= pieces.length) throw new IllegalArgumentException("token id " + id + " outside the vocabulary");
        if (types[id] == 3) return special ? pieces[id].getBytes(StandardCharsets.UTF_8) : bytes[id];
        return bytes[id];
    }

    @Override
    public String decode(int[] ids, boolean special) {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        for (int id : ids) b.writeBytes(tokenBytes(id, special));
        return b.toString(StandardCharsets.UTF_8);
    }

    @Override
    public String piece(int id) {
        return pieces[id];
    }

    @Override
    public int bos() {
        return bos;
    }

    @Override
    public boolean isEndOfGeneration(int id) {
        return id == eos;
    }
}
