package io.github.glidejava.diffusion.training;

import java.awt.BasicStroke;
import java.awt.Color;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import org.jfree.chart.ChartFactory;
import org.jfree.chart.JFreeChart;
import org.jfree.chart.axis.LogAxis;
import org.jfree.chart.plot.PlotOrientation;
import org.jfree.chart.plot.XYPlot;
import org.jfree.chart.renderer.xy.XYLineAndShapeRenderer;
import org.jfree.data.xy.XYSeries;
import org.jfree.data.xy.XYSeriesCollection;

import io.github.glidejava.core.image.PngFiles;

/**
 * Draws {@code metrics.jsonl} as a loss-curve PNG (JFreeChart): the loss of every logged step, its moving average
 * over 1% of the run (at least 5 steps) and the MSE term, on a log scale.
 */
public final class LossCurve {
    private static final ObjectMapper JSON = new ObjectMapper();

    private LossCurve() {
    }

    /** Reads {@code metricsJsonl} and writes the chart to {@code png} atomically. */
    public static void write(Path metricsJsonl, Path png) throws IOException {
        XYSeries loss = new XYSeries("loss");
        XYSeries mse = new XYSeries("mse");
        for (String line : Files.readAllLines(metricsJsonl, StandardCharsets.UTF_8)) {
            if (line.isBlank()) {
                continue;
            }
            JsonNode o = JSON.readTree(line);
            long step = o.path("step").asLong();
            add(loss, step, o.get("loss"));
            add(mse, step, o.get("mse"));
        }
        XYSeries smooth = movingAverage(loss, Math.max(5, loss.getItemCount() / 100));
        XYSeriesCollection data = new XYSeriesCollection();
        data.addSeries(loss);
        data.addSeries(smooth);
        if (mse.getItemCount() > 0) {
            data.addSeries(mse);
        }
        JFreeChart chart = ChartFactory.createXYLineChart("training loss", "step", "loss", data,
                PlotOrientation.VERTICAL, true, false, false);
        XYPlot plot = chart.getXYPlot();
        plot.setBackgroundPaint(Color.WHITE);
        plot.setDomainGridlinePaint(Color.LIGHT_GRAY);
        plot.setRangeGridlinePaint(Color.LIGHT_GRAY);
        if (loss.getItemCount() > 0 && loss.getMinY() > 0) {
            LogAxis y = new LogAxis("loss (log scale)");
            y.setSmallestValue(1e-4);
            y.setNumberFormatOverride(new java.text.DecimalFormat("0.####"));
            plot.setRangeAxis(y);
        }
        ((org.jfree.chart.axis.NumberAxis) plot.getDomainAxis())
                .setStandardTickUnits(org.jfree.chart.axis.NumberAxis.createIntegerTickUnits());
        XYLineAndShapeRenderer r = new XYLineAndShapeRenderer(true, false);
        r.setSeriesPaint(0, new Color(120, 160, 220));
        r.setSeriesPaint(1, new Color(20, 50, 150));
        r.setSeriesStroke(1, new BasicStroke(2f));
        r.setSeriesPaint(2, new Color(220, 120, 40));
        plot.setRenderer(r);
        PngFiles.write(chart.createBufferedImage(900, 500), png, java.util.Map.of());
    }

    private static void add(XYSeries s, long step, JsonNode v) {
        if (v != null && v.isNumber() && Double.isFinite(v.asDouble()) && v.asDouble() > 0) {
            s.add(step, v.asDouble());
        }
    }

    private static XYSeries movingAverage(XYSeries s, int window) {
        XYSeries out = new XYSeries("loss, moving average of " + window);
        double sum = 0;
        for (int i = 0; i < s.getItemCount(); i++) {
            sum += s.getY(i).doubleValue();
            if (i >= window) {
                sum -= s.getY(i - window).doubleValue();
            }
            if (i >= window - 1) {
                out.add(s.getX(i), sum / window);
            }
        }
        return out;
    }
}
