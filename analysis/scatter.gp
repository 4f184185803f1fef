# scatter.gp - one summary metric against another, a point per configuration (mean over
# seeds) with +-1 sample standard deviation bars on both axes, coloured by the series alias
# (e.g. accuracy against measured latency, one colour per method).
# Variables: datafile, nseries, series_name[nseries], series_color[nseries], key_title,
#            logx, logy. Data columns: series series_index x x_std y y_std n.
if (logx) { set logscale x }
if (logy) { set logscale y }
set offsets graph 0.05, graph 0.05, graph 0.05, graph 0.05
if (nseries > 1) { set key outside right center vertical Left reverse samplen 2 title key_title } else { unset key }
# Rows of other series get NaN in both coordinates, and a standard deviation that is not a
# number (one seed: "nan") a bar of 0; gnuplot drew such a bar out to the border.
point_x(i) = column(2) == i ? column(3) : NaN
point_y(i) = column(2) == i ? column(5) : NaN
bar(c) = valid(c) ? column(c) : 0
plot for [i=1:nseries] datafile using (point_x(i)):(point_y(i)):(bar(4)):(bar(6)) with xyerrorbars pt 7 ps 1.3 lw 1.5 \
         lc rgb series_color[i] title series_name[i]
