package dev.kiri.runtime.cli;

import java.io.IOException;
import java.nio.file.Path;

import dev.kiri.gguf.GgufFile;
import dev.kiri.runtime.tokenizer.Tokenizer;
import dev.kiri.runtime.tokenizer.Tokenizers;

/** Loads the tokenizer of a GGUF file for the tokenize and detokenize commands. */
final class TokenizerFiles {
    private TokenizerFiles() {
    }

    static Tokenizer load(Path model) throws IOException {
        try (GgufFile f = GgufFile.open(model)) {
            return Tokenizers.load(f.metadata(), model.getFileName().toString());
        }
    }
}
