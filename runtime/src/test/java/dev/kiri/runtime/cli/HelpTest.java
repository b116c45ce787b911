package dev.kiri.runtime.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;

import org.junit.jupiter.api.Test;
import picocli.CommandLine;

class HelpTest {

    /** {@code kiri COMMAND --help} prints that command's usage and succeeds, for every command. */
    @Test
    void everyCommandTakesHelp() {
        List<String> names = new CommandLine(new Main()).getSubcommands().keySet().stream()
                .filter(n -> !n.equals("help")).toList();
        assertTrue(names.size() >= 9, "commands: " + names);
        for (String name : names) {
            CliRun r = CliRun.of(name, "--help");
            assertEquals(0, r.status(), name + " --help: " + r.err());
            assertTrue(r.out().contains("Usage: kiri " + name), name + " --help printed: " + r.out());
        }
    }

    @Test
    void versionWorksEverywhere() {
        CliRun r = CliRun.of("run", "--version");
        assertEquals(0, r.status(), r.err());
        assertTrue(r.out().startsWith("kiri "), r.out());
    }
}
