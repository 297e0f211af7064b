package io.r1kit.pipeline.report;

import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYChartBuilder;
import org.knowm.xchart.XYSeries;
import org.knowm.xchart.style.Styler;
import org.knowm.xchart.style.markers.SeriesMarkers;

import java.awt.Color;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** Line charts of training curves, written as PNG with XChart (headless). */
public final class CurvePlot {
    static {
        System.setProperty("java.awt.headless", "true");
    }

    /** A curve with an optional band (mean ± std across seeds) drawn behind it. */
    public record Band(MetricsFile.Series mean, List<Double> lower, List<Double> upper) {}

    private CurvePlot() {}

    /** Plots the given curves on one chart; empty series are left out. Returns false if nothing to plot. */
    public static boolean write(Path png, String title, String yLabel, List<MetricsFile.Series> curves) {
        List<Band> bands = new ArrayList<>();
        for (MetricsFile.Series s : curves) bands.add(new Band(s, null, null));
        return writeBands(png, title, yLabel, bands);
    }

    public static boolean writeBands(Path png, String title, String yLabel, List<Band> curves) {
        List<Band> present = curves.stream().filter(b -> !b.mean().isEmpty()).toList();
        if (present.isEmpty()) return false;
        XYChart chart = new XYChartBuilder().width(720).height(400).title(title)
                .xAxisTitle("step").yAxisTitle(yLabel).build();
        chart.getStyler().setLegendPosition(Styler.LegendPosition.InsideNE);
        chart.getStyler().setChartBackgroundColor(Color.WHITE);
        chart.getStyler().setPlotGridLinesColor(new Color(230, 230, 230));
        chart.getStyler().setLegendVisible(present.size() > 1 || present.get(0).lower() != null);
        for (Band b : present) {
            MetricsFile.Series s = b.mean();
            if (b.lower() != null && b.upper() != null) {
                List<Double> err = new ArrayList<>();
                for (int i = 0; i < s.y().size(); i++) err.add((b.upper().get(i) - b.lower().get(i)) / 2);
                XYSeries band = chart.addSeries(s.name(), s.x(), s.y(), err);
                band.setXYSeriesRenderStyle(XYSeries.XYSeriesRenderStyle.Line);
                band.setMarker(SeriesMarkers.NONE);
                chart.getStyler().setErrorBarsColorSeriesColor(true);
            } else {
                XYSeries line = chart.addSeries(s.name(), s.x(), s.y());
                line.setMarker(s.x().size() > 40 ? SeriesMarkers.NONE : SeriesMarkers.CIRCLE);
            }
        }
        try {
            Files.createDirectories(png.toAbsolutePath().getParent());
            BitmapEncoder.saveBitmap(chart, png.toString(), BitmapEncoder.BitmapFormat.PNG);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write plot " + png, e);
        }
        return true;
    }
}
