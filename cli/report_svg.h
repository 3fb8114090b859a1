/* report_svg.h - the charts of `scrape report`: inline SVG written with stdio, no script.
 *
 * A chart is a struct scr_svg_plot: the size of the picture, the margins around the plot area
 * and the value at the end of the value axis.  scr_svg_open() starts an <svg>, the draw
 * functions write into it, scr_svg_close() ends it.  Every string given to these functions
 * (labels, titles) is written through scr_html_text(), so text from the database can never
 * close an element or open one.  Coordinates are printed with one decimal: the same data gives
 * the same bytes.  Nothing here allocates; nothing fails (the caller checks ferror()).
 */
#ifndef SCR_REPORT_SVG_H
#define SCR_REPORT_SVG_H

#include <stddef.h>
#include <stdio.h>

struct scr_svg_plot {
    int width, height;            /* the whole picture, px */
    int left, right, top, bottom; /* margins around the plot area, px */
    double vmax;                  /* value at the end of the value axis (scr_svg_nice_max) */
    double vstep;                 /* value between two gridlines */
};

/* One bar: its label (text from the database: escaped, cut to 32 characters in the picture),
 * its value, an inner value drawn darker inside it from the axis (< 0: none), its fill
 * colour (a static string of ours) and the text written at its end (ours; NULL: the value). */
struct scr_svg_bar {
    const char *label;
    double value, inner;
    const char *fill;
    const char *text;
};

/* A tick of the category axis: its position as a fraction of the plot width, and its label. */
struct scr_svg_tick {
    double at;
    char label[32];
};

/* Writes s as HTML text or the inside of a quoted attribute, which is also well-formed XML:
 * & < > " ' as entities, control characters other than tab, LF and CR and bytes that are not
 * UTF-8 as U+FFFD.  max_chars > 0 cuts the text to that many characters, the last being "…".
 * NULL writes nothing.  s is borrowed. */
void scr_html_text(FILE *out, const char *s, size_t max_chars);

/* Rounds v up to an axis end of 1, 2, 2.5 or 5 times a power of ten, with at most `lines`
 * gridlines; *step receives the value between two of them.  v <= 0 gives 1 (step 0.5 or so). */
double scr_svg_nice_max(double v, int lines, double *step);

/* The colour of series i: ten distinct colours, then the same again (with scr_svg_dash()). */
const char *scr_svg_color(size_t i);

/* The stroke-dasharray of series i: "none" for the first ten, then dashes, then dots. */
const char *scr_svg_dash(size_t i);

/* Starts <svg class="chart CLS" ...> of the plot's size with a <title> (our text or the
 * database's: escaped).  cls is ours, [a-z-] only. */
void scr_svg_open(FILE *out, const struct scr_svg_plot *p, const char *cls, const char *title);
void scr_svg_close(FILE *out);

/* The value axis of a vertical chart: horizontal gridlines with their values on the left, the
 * axis line, and the title written upwards along it. */
void scr_svg_y_axis(FILE *out, const struct scr_svg_plot *p, const char *title);

/* The category axis under the plot: the axis line, a tick and a label per tick, and the title
 * centred below. */
void scr_svg_x_axis(FILE *out, const struct scr_svg_plot *p, const struct scr_svg_tick *t,
                    size_t n, const char *title);

/* One line series: y[i] at the middle of band i of n across the plot, as
 * <polyline class="series" data-series="LABEL">; a single point also gets a dot.  color is an
 * index for scr_svg_color() and scr_svg_dash(). */
void scr_svg_line(FILE *out, const struct scr_svg_plot *p, const double *y, size_t n,
                  size_t color, const char *label);

/* The legend under the x axis: a swatch and a label per series, in rows of `columns`.  The
 * caller leaves room for it: scr_svg_legend_height(n, columns) px at the bottom. */
void scr_svg_legend(FILE *out, const struct scr_svg_plot *p, const char *const *labels,
                    size_t n, int columns);
int scr_svg_legend_height(size_t n, int columns);

/* Vertical bars, one per band, <rect class="bar"> with a <title> "LABEL: TEXT", the text above
 * the bar and the label under the axis. */
void scr_svg_vbars(FILE *out, const struct scr_svg_plot *p, const struct scr_svg_bar *b,
                   size_t n);

/* Horizontal bars, one per row from the top, labels in the left margin, vertical gridlines
 * with their values along the bottom and `unit` after the last one. */
void scr_svg_hbars(FILE *out, const struct scr_svg_plot *p, const struct scr_svg_bar *b,
                   size_t n, const char *unit);

#endif
