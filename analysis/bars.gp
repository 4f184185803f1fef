# bars.gp - grouped bars: one group per value of the x alias, one bar per value of the
# series alias, height the mean over seeds, error bar +-1 sample standard deviation (none
# with a single seed). The legend sits outside the plot, right of it.
# Variables: datafile, nseries, series_name[nseries], series_color[nseries], key_title,
#            nx, xtic_rotate. Data columns: x, then mean std n per series.
set style data histogram
set style histogram errorbars gap 1.5 lw 1.2
set style fill solid 0.9 border rgb '#303030'
set boxwidth 0.92
set yrange [0:*]
set offsets 0, 0, graph 0.06, 0
set xrange [-0.6:nx - 0.4]
set xtics scale 0
if (xtic_rotate) { set xtics rotate by -30 left }
set grid noxtics ytics
if (nseries > 1) { set key outside right center vertical Left reverse samplen 1.5 title key_title } else { unset key }
plot for [i=1:nseries] datafile using (column(3*i - 1)):(valid(3*i) ? column(3*i) : 0):xtic(1) \
     lc rgb series_color[i] title series_name[i]
