# heatmap.gp - a metric (mean over seeds) over two sweep axes. Cells sit on index
# coordinates, so an uneven grid (0, 0.1, 0.5, 0.9) still gets equal, touching cells, and
# configurations the sweep left out (a where: filter) stay blank. Each cell prints its value.
# Variables: datafile, nx, ny, xtic_label[nx], ytic_label[ny], zmin, zmax, zlabel_text,
#            value_format. Data columns: xi yi x y mean std n. zmin..zmax is the colour
# range: shared by the experiment's heatmaps of one metric family (pruned_acc and acc), so
# one colour means one value in all of them (framework/io/heatmap_range.h).
set grid noytics
set border 0
set tics scale 0
set xrange [-0.5:nx - 0.5]
set yrange [-0.5:ny - 0.5]
set xtics ()
set ytics ()
set for [i=1:nx] xtics add (xtic_label[i] i - 1)
set for [i=1:ny] ytics add (ytic_label[i] i - 1)
set size ratio -1
set palette defined (0 '#440154', 0.25 '#3b528b', 0.5 '#21918c', 0.75 '#5ec962', 1 '#fde725')
set cbrange [zmin:zmax]
set cblabel zlabel_text offset 1,0
set cbtics out nomirror scale 0.6
set format cb value_format
set colorbox user origin graph 1.04, graph 0 size graph 0.04, graph 1
unset key
# cells overlap by a hair so antialiasing leaves no seams between them
# dark text on the light (high) end of the palette, white on the dark end
ink(z) = (z - zmin) / (zmax - zmin) > 0.55 ? 0x202020 : 0xffffff
plot datafile using 1:2:(0.503):(0.503):5 with boxxyerror fs solid 1.0 noborder fc palette, \
     datafile using 1:2:(sprintf(value_format, $5)):(ink($5)) with labels tc rgb variable
