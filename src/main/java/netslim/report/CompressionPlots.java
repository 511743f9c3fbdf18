package netslim.report;

import java.awt.Color;
import java.awt.Graphics2D;
import java.awt.image.BufferedImage;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.function.ToDoubleFunction;

import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.CategoryChart;
import org.knowm.xchart.CategoryChartBuilder;
import org.knowm.xchart.CategorySeries;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYChartBuilder;
import org.knowm.xchart.XYSeries;
import org.knowm.xchart.internal.chartpart.Chart;
import org.knowm.xchart.style.Styler;
import org.knowm.xchart.style.lines.SeriesLines;
import org.knowm.xchart.style.markers.Marker;
import org.knowm.xchart.style.markers.SeriesMarkers;

/**
 * The report's PNG plots, drawn with XChart off-screen ({@code java.awt.headless=true}, no display needed):
 * <ul>
 *   <li>pareto: two panels, top-1 vs MACs and top-1 vs parameters; every search point (filled circle: within budget,
 *       cross: below the floor), the baseline, the reported variants (diamonds: the chosen point, or the most
 *       accurate one when none was within budget) and the floor as a dashed line;</li>
 *   <li>layers: per conv of the baseline, its filters and the kept filters of every variant (upper panel) and the
 *       Tucker-2 ranks R3 / R4 of the decomposed variants (lower panel; 0 = not decomposed).</li>
 * </ul>
 */
final class CompressionPlots {
    static final int PANEL_W = 640, PANEL_H = 480, PARETO_W = 800;

    static {
        if (System.getProperty("java.awt.headless") == null) System.setProperty("java.awt.headless", "true");
    }

    private CompressionPlots() {
    }

    /** One colour per variant, the same in both plots. */
    static Color color(String variant) {
        return switch (variant) {
            case "baseline" -> new Color(90, 90, 90);
            case "prune" -> new Color(31, 119, 180);
            case "tucker" -> new Color(255, 127, 14);
            case "prune+tucker" -> new Color(44, 160, 44);
            default -> new Color(148, 103, 189);
        };
    }

    static BufferedImage pareto(CompressionReport r) {
        XYChart macs = paretoPanel(r, "top-1 vs MACs", "MACs per image (millions)", e -> e.macs() / 1e6,
                p -> p.macs() / 1e6);
        XYChart params = paretoPanel(r, "top-1 vs parameters", "parameters (thousands)", e -> e.params() / 1e3,
                p -> p.params() / 1e3);
        return stack(List.of(macs, params), true);
    }

    private static XYChart paretoPanel(CompressionReport r, String title, String xTitle,
                                       ToDoubleFunction<CompressionReport.Entry> entryX,
                                       ToDoubleFunction<CompressionReport.Point> pointX) {
        XYChart c = new XYChartBuilder().width(PARETO_W).height(PANEL_H).title(title).xAxisTitle(xTitle)
                .yAxisTitle("top-1 (%)").build();
        // Beside the plot: inside, the legend would hide points (low-accuracy ones sit bottom left, good ones top right).
        c.getStyler().setLegendPosition(Styler.LegendPosition.OutsideE).setChartBackgroundColor(Color.WHITE);
        c.getStyler().setMarkerSize(9);
        c.getStyler().setXAxisMin(0.0).setXAxisDecimalPattern("#,##0.#").setYAxisDecimalPattern("0.0");
        c.getStyler().setDefaultSeriesRenderStyle(XYSeries.XYSeriesRenderStyle.Scatter);
        Set<String> variants = new LinkedHashSet<>();
        for (CompressionReport.Point p : r.points()) variants.add(p.variant());
        for (String v : variants) {
            for (boolean accepted : new boolean[] {true, false}) {
                List<CompressionReport.Point> ps = r.points().stream()
                        .filter(p -> p.variant().equals(v) && p.accepted() == accepted).toList();
                if (ps.isEmpty()) continue;
                scatter(c, v + (accepted ? " within budget" : " below floor"), ps.stream().mapToDouble(pointX).toArray(),
                        ps.stream().mapToDouble(p -> 100 * p.top1()).toArray(), color(v),
                        accepted ? SeriesMarkers.CIRCLE : SeriesMarkers.CROSS);
            }
        }
        for (CompressionReport.Entry e : r.entries()) {
            String label = e.name().equals("baseline") ? "baseline"
                    : e.name() + (Boolean.FALSE.equals(e.withinBudget()) ? " (over budget)" : " chosen");
            scatter(c, label, new double[] {entryX.applyAsDouble(e)}, new double[] {100 * e.top1()}, color(e.name()),
                    e.name().equals("baseline") ? SeriesMarkers.SQUARE : SeriesMarkers.DIAMOND);
        }
        if (!Double.isNaN(r.run().floor())) floorLine(c, r, entryX, pointX);
        return c;
    }

    private static void scatter(XYChart c, String name, double[] x, double[] y, Color color, Marker marker) {
        XYSeries s = c.addSeries(name, x, y);
        s.setMarker(marker);
        s.setMarkerColor(color);
        s.setXYSeriesRenderStyle(XYSeries.XYSeriesRenderStyle.Scatter);
    }

    /** The floor (baseline − max-drop) across the panel's x range. */
    private static void floorLine(XYChart c, CompressionReport r, ToDoubleFunction<CompressionReport.Entry> entryX,
                                  ToDoubleFunction<CompressionReport.Point> pointX) {
        double lo = Double.POSITIVE_INFINITY, hi = Double.NEGATIVE_INFINITY;
        for (CompressionReport.Entry e : r.entries()) {
            lo = Math.min(lo, entryX.applyAsDouble(e));
            hi = Math.max(hi, entryX.applyAsDouble(e));
        }
        for (CompressionReport.Point p : r.points()) {
            lo = Math.min(lo, pointX.applyAsDouble(p));
            hi = Math.max(hi, pointX.applyAsDouble(p));
        }
        double f = 100 * r.run().floor();
        XYSeries s = c.addSeries("floor (baseline - max-drop)", new double[] {lo, hi}, new double[] {f, f});
        s.setXYSeriesRenderStyle(XYSeries.XYSeriesRenderStyle.Line);
        s.setMarker(SeriesMarkers.NONE);
        s.setLineColor(Color.RED);
        s.setLineStyle(SeriesLines.DASH_DASH);
    }

    static BufferedImage layers(CompressionReport r) {
        List<String> names = r.baseline().layers().stream().map(CompressionReport.LayerRow::layer).toList();
        if (names.isEmpty()) names = List.of("(no conv)");
        int width = Math.max(2 * PARETO_W, 26 * names.size() + 220);
        CategoryChart filters = layersPanel("filters per conv layer: baseline and kept", "out-channels", width);
        filters.addSeries("baseline", names, r.baseline().layers().isEmpty() ? List.of(0)
                : values(r.baseline().layers(), l -> l.baselineFilters())).setFillColor(color("baseline"));
        List<CategoryChart> charts = new ArrayList<>(List.of(filters));
        CategoryChart ranks = layersPanel("Tucker-2 ranks per conv layer (0 = not decomposed)", "rank", width);
        boolean anyRanks = false;
        for (CompressionReport.Entry e : r.entries().subList(1, r.entries().size())) {
            if (e.layers().isEmpty()) continue;
            filters.addSeries(e.name() + " kept", names, values(e.layers(), l -> l.keptFilters()))
                    .setFillColor(color(e.name()));
            if (e.layers().stream().anyMatch(l -> l.r3() > 0)) {
                anyRanks = true;
                ranks.addSeries(e.name() + " R3 (in)", names, values(e.layers(), l -> l.r3()))
                        .setFillColor(color(e.name()).brighter());
                ranks.addSeries(e.name() + " R4 (out)", names, values(e.layers(), l -> l.r4()))
                        .setFillColor(color(e.name()).darker());
            }
        }
        if (anyRanks) charts.add(ranks);
        return stack(charts, false);
    }

    private static CategoryChart layersPanel(String title, String yTitle, int width) {
        CategoryChart c = new CategoryChartBuilder().width(width).height(PANEL_H + 120).title(title)
                .xAxisTitle("conv layer").yAxisTitle(yTitle).build();
        c.getStyler().setLegendPosition(Styler.LegendPosition.InsideNE).setChartBackgroundColor(Color.WHITE);
        c.getStyler().setXAxisLabelRotation(90);
        return c;
    }

    private static List<Integer> values(List<CompressionReport.LayerRow> rows,
                                        java.util.function.ToIntFunction<CompressionReport.LayerRow> f) {
        return rows.stream().map(f::applyAsInt).toList();
    }

    /** The panels side by side ({@code horizontal}) or one above the other, on a white background. */
    private static BufferedImage stack(List<? extends Chart<?, ?>> charts, boolean horizontal) {
        List<BufferedImage> images = charts.stream().map(BitmapEncoder::getBufferedImage).toList();
        int w = 0, h = 0;
        for (BufferedImage i : images) {
            w = horizontal ? w + i.getWidth() : Math.max(w, i.getWidth());
            h = horizontal ? Math.max(h, i.getHeight()) : h + i.getHeight();
        }
        BufferedImage out = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = out.createGraphics();
        g.setColor(Color.WHITE);
        g.fillRect(0, 0, w, h);
        int at = 0;
        for (BufferedImage i : images) {
            g.drawImage(i, horizontal ? at : 0, horizontal ? 0 : at, null);
            at += horizontal ? i.getWidth() : i.getHeight();
        }
        g.dispose();
        return out;
    }
}
