package netslim.report;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/** report.md and the comparison table the CLI prints: Markdown tables padded so they also read as plain text. */
final class ReportMarkdown {
    private ReportMarkdown() {
    }

    /** variant | settings | top-1 | Δ | params | × | MACs | × | latency b1 / b32 | speedups | speedup ÷ MAC reduction. */
    static String comparison(CompressionReport r) {
        CompressionReport.Entry base = r.baseline();
        String device = base.latency() == null ? "" : " (" + base.latency().device() + ")";
        List<String[]> rows = new ArrayList<>();
        rows.add(new String[] {"variant", "settings", "top-1 %", "Δ pts", "params", "× params", "MACs", "× MACs",
                "ms b1" + device, "ms b32", "speedup b1", "speedup b32", "speedup/×MACs b32"});
        for (CompressionReport.Entry e : r.entries()) {
            double s1 = ReportJson.speedup(base, e, true), s32 = ReportJson.speedup(base, e, false);
            double macsRatio = CompressionReport.ratio(base.macs(), e.macs());
            String name = e.name() + (Boolean.FALSE.equals(e.withinBudget()) ? " (over budget)" : "");
            rows.add(new String[] {name, e.settings(), pct(e.top1()), signed(100 * (e.top1() - base.top1())),
                    String.format(Locale.ROOT, "%,d", e.params()), times(CompressionReport.ratio(base.params(), e.params())),
                    String.format(Locale.ROOT, "%,d", e.macs()), times(macsRatio),
                    e.latency() == null ? "-" : fixed(e.latency().b1Ms()), e.latency() == null ? "-" : fixed(e.latency().b32Ms()),
                    times(s1), times(s32), fixed(s32 / macsRatio)});
        }
        return table(rows, "llrrrrrrrrrrr");
    }

    static String document(CompressionReport r) {
        CompressionReport.Run run = r.run();
        StringBuilder b = new StringBuilder();
        b.append("# netslim compress report\n\n");
        b.append(String.format(Locale.ROOT, "Model `%s` on `%s`, pipeline `%s`, device %s. Top-1 on %d test images "
                + "(the search chose on the same images). Fine-tuning after each stage: %s, on %d training images. "
                + "Pruning criterion: %s.%n%n", run.model(), run.data(), run.pipeline(), run.device(), run.evalImages(),
                run.fineTune(), run.fineTuneImages(), run.criterion()));
        if (!Double.isNaN(run.floor())) {
            b.append(String.format(Locale.ROOT, "Budget: top-1 ≥ baseline − %s points = %.2f %%; at most %d search "
                    + "points per variant; the chosen point of a variant is its fewest-MACs point within budget.%n%n",
                    num(run.maxDropPoints()), 100 * run.floor(), run.searchSteps()));
        }
        b.append("## Variants\n\n").append(comparison(r)).append('\n');
        b.append("× = times smaller or faster than the baseline; speedup/×MACs = measured speedup divided by the MAC "
                + "reduction (1 = the MAC reduction fully became speed).\n\n");
        for (String note : run.notes()) b.append("- ").append(note).append('\n');
        if (!run.notes().isEmpty()) b.append('\n');
        b.append("## Every point tried\n\n").append(pointsTable(r)).append('\n');
        b.append("## Layers\n\n").append(layersTable(r)).append('\n');
        b.append(ModelStats.MAC_CONVENTION).append(".\n\n");
        b.append("![top-1 vs MACs and params](").append(CompressionReport.PARETO).append(")\n\n");
        b.append("![per-layer filters and ranks](").append(CompressionReport.LAYERS).append(")\n");
        return b.toString();
    }

    private static String pointsTable(CompressionReport r) {
        List<String[]> rows = new ArrayList<>();
        rows.add(new String[] {"#", "variant", "prune ratio", "rank", "top-1 %", "params", "MACs", "within budget",
                "chosen"});
        for (CompressionReport.Point p : r.points()) {
            rows.add(new String[] {Integer.toString(p.index()), p.variant(), p.ratio() > 0 ? num(p.ratio()) : "-",
                    p.rank() == null ? "-" : p.rank(), pct(p.top1()), String.format(Locale.ROOT, "%,d", p.params()),
                    String.format(Locale.ROOT, "%,d", p.macs()), p.accepted() ? "yes" : "no", p.chosen() ? "yes" : ""});
        }
        if (rows.size() == 1) return "(no search: a single pipeline with the given settings)\n";
        return table(rows, "rlrlrrrll");
    }

    /** layer | baseline filters | per variant: kept filters and (where decomposed) ranks R3,R4. */
    private static String layersTable(CompressionReport r) {
        List<CompressionReport.Entry> vs = r.entries().subList(1, r.entries().size());
        List<String> head = new ArrayList<>(List.of("layer", "baseline filters"));
        for (CompressionReport.Entry e : vs) {
            head.add(e.name() + " filters");
            head.add(e.name() + " R3,R4");
        }
        List<String[]> rows = new ArrayList<>();
        rows.add(head.toArray(String[]::new));
        List<CompressionReport.LayerRow> baseRows = r.baseline().layers();
        for (int i = 0; i < baseRows.size(); i++) {
            List<String> row = new ArrayList<>(List.of(baseRows.get(i).layer(),
                    Integer.toString(baseRows.get(i).baselineFilters())));
            for (CompressionReport.Entry e : vs) {
                CompressionReport.LayerRow l = e.layers().get(i);
                row.add(Integer.toString(l.keptFilters()));
                row.add(l.r3() > 0 ? l.r3() + "," + l.r4() : "-");
            }
            rows.add(row.toArray(String[]::new));
        }
        return table(rows, "l" + "r".repeat(head.size() - 1));
    }

    /** A Markdown table with every column padded to its widest cell; align: one 'l' or 'r' per column. */
    static String table(List<String[]> rows, String align) {
        int cols = rows.get(0).length;
        int[] w = new int[cols];
        for (String[] row : rows) for (int c = 0; c < cols; c++) w[c] = Math.max(Math.max(w[c], row[c].length()), 3);
        StringBuilder b = new StringBuilder();
        for (int i = 0; i < rows.size(); i++) {
            line(b, rows.get(i), w, align);
            if (i == 0) {
                String[] rule = new String[cols];
                for (int c = 0; c < cols; c++) {
                    rule[c] = align.charAt(c) == 'r' ? "-".repeat(w[c] - 1) + ":" : "-".repeat(w[c]);
                }
                line(b, rule, w, align);
            }
        }
        return b.toString();
    }

    private static void line(StringBuilder b, String[] cells, int[] w, String align) {
        b.append('|');
        for (int c = 0; c < cells.length; c++) {
            String pad = " ".repeat(w[c] - cells[c].length());
            b.append(' ').append(align.charAt(c) == 'r' ? pad + cells[c] : cells[c] + pad).append(" |");
        }
        b.append('\n');
    }

    private static String pct(double fraction) {
        return Double.isNaN(fraction) ? "-" : String.format(Locale.ROOT, "%.2f", 100 * fraction);
    }

    private static String signed(double points) {
        return Double.isNaN(points) ? "-" : String.format(Locale.ROOT, "%+.2f", points);
    }

    private static String times(double v) {
        return Double.isFinite(v) ? String.format(Locale.ROOT, "%.2fx", v) : "-";
    }

    private static String fixed(double v) {
        return Double.isFinite(v) ? String.format(Locale.ROOT, "%.2f", v) : "-";
    }

    private static String num(double v) {
        return new java.math.BigDecimal(v).round(new java.math.MathContext(4)).stripTrailingZeros().toPlainString();
    }
}
