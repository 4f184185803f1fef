# lines.gp - a metric (mean over seeds) against a numeric sweep axis, one line per value of
# the series alias, with a shaded band of +-1 sample standard deviation over seeds (no band
# where a point has a single seed). The legend sits outside the plot, right of it.
# Variables: datafile, nseries, series_name[nseries], series_color[nseries], key_title,
#            band, logx, logy. Data columns: series series_index x mean std n.
if (logx) { set logscale x }
if (logy) { set logscale y }
# log axes label 1, 2, 5 of every decade: a loss from 2.3 down to 0.3 still gets numbers
if (logy) { do for [e=-6:6] { set ytics add (sprintf('%g', 2 * 10.0**e) 2 * 10.0**e, sprintf('%g', 5 * 10.0**e) 5 * 10.0**e) } }
if (logx) { do for [e=-6:6] { set xtics add (sprintf('%g', 2 * 10.0**e) 2 * 10.0**e, sprintf('%g', 5 * 10.0**e) 5 * 10.0**e) } }
# the x range ends at the data (no -0.1 sparsity), with a little air on every side
set autoscale xfix
set offsets graph 0.03, graph 0.03, graph 0.05, graph 0.05
if (nseries > 1) { set key outside right center vertical Left reverse samplen 2 title key_title } else { unset key }
point(i) = column(2) == i ? column(3) : NaN
if (band) {
    plot for [i=1:nseries] datafile using (point(i)):($4 - $5):($4 + $5) with filledcurves \
             fs transparent solid 0.18 noborder lc rgb series_color[i], \
         for [i=1:nseries] datafile using (point(i)):4 with linespoints lw 2 pt 7 ps 1.1 \
             lc rgb series_color[i] title series_name[i]
} else {
    plot for [i=1:nseries] datafile using (point(i)):4 with linespoints lw 2 pt 7 ps 1.1 \
             lc rgb series_color[i] title series_name[i]
}
