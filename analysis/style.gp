# style.gp - the look shared by every prunelab figure; prunelab plot puts it between the
# figure's variables and its kind's template (heatmap.gp, lines.gp, bars.gp, curves.gp).
# Text comes from variables that prunelab writes as escaped gnuplot string literals, and the
# terminals are noenhanced, so titles and labels render exactly as written in the YAML.
set datafile separator tab
set datafile columnheaders
set encoding utf8
set border 3 lw 1 lc rgb '#404040'
set tics nomirror out scale 0.6
set tics textcolor rgb '#202020'
set grid noxtics ytics lw 1 lc rgb '#e0e0e0'
set key noautotitle
set key textcolor rgb '#202020'
if (strlen(title_text) > 0) { set title title_text offset 0,-0.3 } else { unset title }
set xlabel xlabel_text
set ylabel ylabel_text
