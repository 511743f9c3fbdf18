package netslim.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

import javax.imageio.ImageIO;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import netslim.io.Nsm;
import netslim.train.SyntheticData;
import netslim.train.TinyModels;

/** compress end to end through the CLI on a tiny conv net and synthetic data: the report directory and its errors. */
class CompressCliTest {
    @TempDir
    static Path shared;
    static Path data, model;

    @BeforeAll
    static void tinyModelAndData() throws IOException {
        data = shared.resolve("idx");
        SyntheticData.writeIdxDir(data, 12, 96, 48, 71);
        model = shared.resolve("tiny.nsm");
        Nsm.save(TinyModels.convNet(12, 16, 10, 0f, 72), model);
    }

    static List<String> args(Path report, String... extra) {
        List<String> a = new ArrayList<>(List.of("compress", "--model", model.toString(), "--data", "idx:" + data,
                "--report", report.toString(), "--batch", "16", "--bench-iters", "1", "--device", "cpu", "--threads",
                "1", "--gemm", "java", "--hooi-iters", "2"));
        a.addAll(List.of(extra));
        return a;
    }

    static JsonObject stats(Path nsm) {
        CliTest.Result s = CliTest.cli("stats", "--model", nsm.toString(), "--json");
        assertEquals(0, s.code(), s.err());
        return JsonParser.parseString(s.out()).getAsJsonObject();
    }

    @Test
    void allWritesTheReportDirectory(@TempDir Path dir) throws IOException {
        Path report = dir.resolve("new/report"), out = dir.resolve("best.nsm");
        CliTest.Result r = CliTest.cli(args(report, "--pipeline", "all", "--search-steps", "2", "--max-drop", "100",
                "--out", out.toString(), "--json").toArray(String[]::new));
        assertEquals(0, r.code(), r.err());
        JsonObject stdout = JsonParser.parseString(r.out()).getAsJsonObject();
        JsonObject o = JsonParser.parseString(Files.readString(report.resolve("report.json"))).getAsJsonObject();
        assertEquals(o, stdout, "--json prints the report.json object");
        JsonArray variants = o.getAsJsonArray("variants");
        assertEquals(List.of("baseline", "prune", "tucker", "prune+tucker"),
                variants.asList().stream().map(v -> v.getAsJsonObject().get("name").getAsString()).toList());
        JsonObject base = variants.get(0).getAsJsonObject();
        for (JsonElement e : variants.asList().subList(1, 4)) {
            JsonObject v = e.getAsJsonObject();
            String name = v.get("name").getAsString();
            Path file = report.resolve(name + ".nsm");
            assertEquals(file.toString(), v.get("file").getAsString());
            JsonObject s = stats(file);
            assertEquals(s.get("params").getAsLong(), v.get("params").getAsLong(), name);
            assertEquals(s.get("macs").getAsLong(), v.get("macs").getAsLong(), name);
            JsonObject ratios = v.getAsJsonObject("ratios");
            assertEquals(base.get("params").getAsDouble() / v.get("params").getAsDouble(),
                    ratios.get("params_ratio").getAsDouble(), 1e-9, name);
            assertEquals(base.get("macs").getAsDouble() / v.get("macs").getAsDouble(),
                    ratios.get("macs_ratio").getAsDouble(), 1e-9, name);
            JsonObject lat = v.getAsJsonObject("latency_ms").getAsJsonObject("cpu"),
                    baseLat = base.getAsJsonObject("latency_ms").getAsJsonObject("cpu");
            double speedup = baseLat.get("b32").getAsDouble() / lat.get("b32").getAsDouble();
            assertEquals(speedup, ratios.get("speedup_b32").getAsDouble(), 1e-9, name);
            assertEquals(speedup / ratios.get("macs_ratio").getAsDouble(),
                    ratios.getAsJsonObject("speedup_over_mac_reduction").get("b32").getAsDouble(), 1e-9, name);
            double top1 = v.get("top1").getAsDouble();
            assertTrue(top1 >= 0 && top1 <= 1, name + " top1 " + top1);
            assertTrue(v.get("within_budget").getAsBoolean(), name + ": every point is within a 100-point budget");
            assertTrue(v.get("macs").getAsLong() < base.get("macs").getAsLong(), name + " has fewer MACs");
            assertEquals(1, chosenPoints(o, name).size(), name + ": exactly one chosen point");
            assertEquals(v.get("macs").getAsLong(), chosenPoints(o, name).get(0).get("macs").getAsLong());
        }
        assertTrue(o.getAsJsonArray("points").size() <= 6, "at most 2 points per variant");
        assertEquals(stats(report.resolve("prune+tucker.nsm")).get("layers"), stats(out).get("layers"),
                "--out is the prune+tucker model");

        String md = Files.readString(report.resolve("report.md"));
        assertTrue(md.contains("| variant ") && md.contains("| prune+tucker ") && md.contains("## Every point tried"), md);
        assertImage(report.resolve("pareto.png"), 1600, 480);
        assertImage(report.resolve("layers.png"), 1600, 1200); // filters panel and ranks panel
        try (Stream<Path> files = Files.list(report)) {
            assertTrue(files.noneMatch(f -> f.getFileName().toString().startsWith(".")), "no temporary files left");
        }
    }

    private static List<JsonObject> chosenPoints(JsonObject report, String variant) {
        return report.getAsJsonArray("points").asList().stream().map(JsonElement::getAsJsonObject)
                .filter(p -> p.get("variant").getAsString().equals(variant) && p.get("chosen").getAsBoolean()).toList();
    }

    private static void assertImage(Path png, int width, int height) throws IOException {
        BufferedImage img = ImageIO.read(png.toFile());
        assertNotNull(img, png + " is not a readable image");
        assertEquals(width, img.getWidth(), png + " width");
        assertEquals(height, img.getHeight(), png + " height");
    }

    @Test
    void singlePipelineSavesItsModelAndPrintsTheTable(@TempDir Path dir) throws IOException {
        Path report = dir.resolve("r"), out = dir.resolve("pruned.nsm");
        CliTest.Result r = CliTest.cli(args(report, "--pipeline", "prune", "--ratio", "0.5", "--finetune-epochs", "1",
                "--out", out.toString()).toArray(String[]::new));
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().lines().anyMatch(l -> l.startsWith("| prune ")), r.out());
        assertTrue(r.out().contains("report: " + report.resolve("report.md")), r.out());
        assertTrue(r.err().contains("prune [ratio 0.5]: fine-tuning 1 epoch(s)"), r.err());
        JsonObject o = JsonParser.parseString(Files.readString(report.resolve("report.json"))).getAsJsonObject();
        assertEquals(2, o.getAsJsonArray("variants").size());
        assertEquals(0, o.getAsJsonArray("points").size());
        JsonObject v = o.getAsJsonArray("variants").get(1).getAsJsonObject();
        assertEquals(0.5, v.getAsJsonObject("settings").get("prune_ratio").getAsDouble());
        assertEquals(stats(out).get("params").getAsLong(), v.get("params").getAsLong());
        int kept = 0, baseline = 0;
        for (JsonElement l : v.getAsJsonArray("layers")) {
            kept += l.getAsJsonObject().get("kept_filters").getAsInt();
            baseline += l.getAsJsonObject().get("baseline_filters").getAsInt();
        }
        assertEquals(32, baseline);
        assertTrue(kept < baseline, "filters were removed: " + kept);
        assertImage(report.resolve("layers.png"), 1600, 600); // no decomposition: the filters panel only
    }

    static Stream<Arguments> badInvocations() {
        return Stream.of(
                Arguments.of(List.of("--pipeline", "squeeze")),
                Arguments.of(List.of("--pipeline", "all", "--ratio", "0.3")),
                Arguments.of(List.of("--pipeline", "tucker", "--ratio", "0.3")),
                Arguments.of(List.of("--pipeline", "tucker", "--rank", "evbmf-weak:2")),
                Arguments.of(List.of("--pipeline", "prune", "--ratio", "1.2")),
                Arguments.of(List.of("--max-drop", "-1")),
                Arguments.of(List.of("--search-steps", "0")),
                Arguments.of(List.of("--criterion", "l7")),
                Arguments.of(List.of("--out", "OUT.onnx")),
                Arguments.of(List.of("--report", "FILE/report")),
                Arguments.of(List.of("--report", "FILE")));
    }

    /** One line, exit 2, nothing on stdout, nothing written (the report directory is checked before any work). */
    @ParameterizedTest
    @MethodSource("badInvocations")
    void badInputFailsFastInOneLine(List<String> extra, @TempDir Path dir) throws IOException {
        Path file = dir.resolve("a-file");
        Files.writeString(file, "not a directory");
        List<String> a = args(dir.resolve("report"));
        for (String e : extra) a.add(e.replace("FILE", file.toString()).replace("OUT", dir.resolve("out").toString()));
        CliTest.Result r = CliTest.cli(a.toArray(String[]::new));
        assertEquals(2, r.code(), a + ": " + r.err());
        String err = r.err().strip();
        assertEquals(1, err.lines().count(), err);
        assertFalse(err.contains("Exception"), err);
        assertTrue(r.out().isEmpty(), r.out());
        try (Stream<Path> files = Files.list(dir)) {
            assertEquals(List.of(file), files.toList(), "nothing written");
        }
        assertEquals("not a directory", Files.readString(file));
    }

    @Test
    void unwritableReportDirectoryIsNamed(@TempDir Path dir) throws IOException {
        Path file = dir.resolve("plain");
        Files.writeString(file, "x");
        CliTest.Result r = CliTest.cli(args(file.resolve("sub"), "--pipeline", "all").toArray(String[]::new));
        assertEquals(2, r.code(), r.err());
        assertTrue(r.err().contains("--report " + file.resolve("sub")), r.err());
    }
}
