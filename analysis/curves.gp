# curves.gp - a metric logged per step (a loss, an evaluation accuracy) through one stage,
# one line per configuration (mean over seeds, shaded +-1 sample std) or per run.
# Variables: datafile, nseries, series_name[nseries], series_color[nseries], key_title,
#            band, logx, logy. Data columns: series series_index step mean std n.
if (logx) { set logscale x }
if (logy) { set logscale y }
# log axes label 1, 2, 5 of every decade: a loss from 2.3 down to 0.3 still gets numbers
if (logy) { do for [e=-6:6] { set ytics add (sprintf('%g', 2 * 10.0**e) 2 * 10.0**e, sprintf('%g', 5 * 10.0**e) 5 * 10.0**e) } }
if (logx) { do for [e=-6:6] { set xtics add (sprintf('%g', 2 * 10.0**e) 2 * 10.0**e, sprintf('%g', 5 * 10.0**e) 5 * 10.0**e) } }
# ranges end at the data: steps from first to last, and on a log y axis no empty decades
set autoscale xfix
if (logy) { set autoscale yfix }
set offsets 0, 0, graph 0.04, graph 0.04
if (nseries > 1) { set key outside right center vertical Left reverse samplen 2 title key_title } else { unset key }
point(i) = column(2) == i ? column(3) : NaN
if (band) {
    plot for [i=1:nseries] datafile using (point(i)):($4 - $5):($4 + $5) with filledcurves \
             fs transparent solid 0.18 noborder lc rgb series_color[i], \
         for [i=1:nseries] datafile using (point(i)):4 with lines lw 2 lc rgb series_color[i] title series_name[i]
} else {
    plot for [i=1:nseries] datafile using (point(i)):4 with lines lw 2 lc rgb series_color[i] title series_name[i]
}
