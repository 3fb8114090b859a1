/* report_svg.c - inline SVG charts for `scrape report` (see report_svg.h).
 *
 * Called only by cli/cmd_report.c.  Invariants: every string from a caller goes out through
 * scr_html_text(); every number goes out through "%.1f" or "%.0f" in the C locale (the binary
 * never calls setlocale), so the output is byte-for-byte the same for the same data; no
 * element ever depends on script, CSS from elsewhere or a font file: classes only name the
 * rules of the report's own <style>, and colours are attributes, so a chart copied out of the
 * page still draws.
 */
#include "cli/report_svg.h"

#include <math.h>
#include <string.h>

#define LEGEND_ROW 18   /* px per legend row */
#define LEGEND_GAP 56   /* px from the x axis to the first legend row: labels and title */
#define CHAR_PX 7.0     /* about the width of a character of the 12 px labels */

/* ------------------------------------------------------------------ escaping */

/* The length of the UTF-8 sequence at s (1 to 4), or 0 when it is not valid UTF-8 or not a
 * character XML allows; *cp receives the code point. */
static size_t utf8_char(const unsigned char *s, unsigned *cp)
{
    size_t len, i;
    unsigned c = s[0], min;

    if (c < 0x80) {
        *cp = c;
        return 1;
    }
    if (c >= 0xC2 && c <= 0xDF) {
        len = 2, c &= 0x1F, min = 0x80;
    } else if (c >= 0xE0 && c <= 0xEF) {
        len = 3, c &= 0x0F, min = 0x800;
    } else if (c >= 0xF0 && c <= 0xF4) {
        len = 4, c &= 0x07, min = 0x10000;
    } else {
        return 0;
    }
    for (i = 1; i < len; i++) {
        if ((s[i] & 0xC0) != 0x80)
            return 0;
        c = (c << 6) | (s[i] & 0x3F);
    }
    if (c < min || c > 0x10FFFF || (c >= 0xD800 && c <= 0xDFFF) || c == 0xFFFE || c == 0xFFFF)
        return 0;
    *cp = c;
    return len;
}

/* The number of characters scr_html_text() sees in s (an invalid byte counts as one). */
static size_t text_chars(const char *s)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t n = 0;
    unsigned cp;

    while (*p) {
        size_t len = utf8_char(p, &cp);
        p += len ? len : 1;
        n++;
    }
    return n;
}

void scr_html_text(FILE *out, const char *s, size_t max_chars)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t limit = (size_t)-1, n = 0;
    unsigned cp;

    if (!s)
        return;
    if (max_chars > 0 && text_chars(s) > max_chars)
        limit = max_chars - 1;
    while (*p && n < limit) {
        size_t len = utf8_char(p, &cp);
        n++;
        if (len == 0 || (cp < 0x20 && cp != '\t' && cp != '\n' && cp != '\r') || cp == 0x7F) {
            fputs("\xEF\xBF\xBD", out); /* U+FFFD */
            p += len ? len : 1;
            continue;
        }
        switch (cp) {
        case '&': fputs("&amp;", out); break;
        case '<': fputs("&lt;", out); break;
        case '>': fputs("&gt;", out); break;
        case '"': fputs("&quot;", out); break;
        case '\'': fputs("&#39;", out); break;
        default: fwrite(p, 1, len, out); break;
        }
        p += len;
    }
    if (limit != (size_t)-1)
        fputs("\xE2\x80\xA6", out); /* … */
}

/* ------------------------------------------------------------------ scales and colours */

double scr_svg_nice_max(double v, int lines, double *step)
{
    static const double mult[] = {1, 2, 2.5, 5, 10};
    double raw, mag, s = 1;

    if (lines < 1)
        lines = 1;
    if (!(v > 0))
        v = 1;
    raw = v / lines;
    mag = pow(10, floor(log10(raw)));
    for (size_t i = 0; i < sizeof(mult) / sizeof(mult[0]); i++) {
        s = mult[i] * mag;
        if (s >= raw * (1 - 1e-12))
            break;
    }
    *step = s;
    return ceil(v / s - 1e-9) * s;
}

const char *scr_svg_color(size_t i)
{
    static const char *const colors[] = {"#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd",
                                         "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"};
    return colors[i % 10];
}

const char *scr_svg_dash(size_t i)
{
    static const char *const dashes[] = {"none", "7 3", "2 2"};
    return dashes[(i / 10) % 3];
}

/* Writes a value of an axis: whole numbers without decimals, others with what they need. */
static void put_value(FILE *out, double v)
{
    if (fabs(v - round(v)) < 1e-9)
        fprintf(out, "%.0f", v);
    else
        fprintf(out, "%g", v);
}

/* ------------------------------------------------------------------ frame */

static double plot_x0(const struct scr_svg_plot *p) { return p->left; }
static double plot_x1(const struct scr_svg_plot *p) { return p->width - p->right; }
static double plot_y0(const struct scr_svg_plot *p) { return p->top; }
static double plot_y1(const struct scr_svg_plot *p) { return p->height - p->bottom; }

/* The number of gridlines above the axis (the axis end included). */
static int grid_lines(const struct scr_svg_plot *p)
{
    return p->vstep > 0 ? (int)lround(p->vmax / p->vstep) : 0;
}

void scr_svg_open(FILE *out, const struct scr_svg_plot *p, const char *cls, const char *title)
{
    fprintf(out,
            "<svg class=\"chart %s\" xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" "
            "height=\"%d\" viewBox=\"0 0 %d %d\" role=\"img\" aria-label=\"",
            cls, p->width, p->height, p->width, p->height);
    scr_html_text(out, title, 0);
    fputs("\">\n<title>", out);
    scr_html_text(out, title, 0);
    fputs("</title>\n", out);
}

void scr_svg_close(FILE *out)
{
    fputs("</svg>\n", out);
}

void scr_svg_y_axis(FILE *out, const struct scr_svg_plot *p, const char *title)
{
    double x0 = plot_x0(p), x1 = plot_x1(p), y0 = plot_y0(p), y1 = plot_y1(p);
    int lines = grid_lines(p);

    fputs("<g class=\"axis y-axis\">\n", out);
    for (int k = 0; k <= lines; k++) {
        double v = k * p->vstep, y = y1 - (v / p->vmax) * (y1 - y0);
        fprintf(out, "<line class=\"grid\" x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\"/>",
                x0, y, x1, y);
        fprintf(out, "<text class=\"tick\" x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\">", x0 - 6,
                y + 4);
        put_value(out, v);
        fputs("</text>\n", out);
    }
    fprintf(out, "<line class=\"axis-line\" x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\"/>\n",
            x0, y0, x0, y1);
    fprintf(out,
            "<text class=\"axis-title\" transform=\"rotate(-90)\" x=\"%.1f\" y=\"14\" "
            "text-anchor=\"middle\">",
            -(y0 + y1) / 2);
    scr_html_text(out, title, 0);
    fputs("</text>\n</g>\n", out);
}

void scr_svg_x_axis(FILE *out, const struct scr_svg_plot *p, const struct scr_svg_tick *t,
                    size_t n, const char *title)
{
    double x0 = plot_x0(p), x1 = plot_x1(p), y1 = plot_y1(p);

    fputs("<g class=\"axis x-axis\">\n", out);
    fprintf(out, "<line class=\"axis-line\" x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\"/>\n",
            x0, y1, x1, y1);
    for (size_t i = 0; i < n; i++) {
        double x = x0 + t[i].at * (x1 - x0);
        fprintf(out, "<line class=\"axis-line\" x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\"/>",
                x, y1, x, y1 + 5);
        fprintf(out, "<text class=\"tick\" x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">", x,
                y1 + 18);
        scr_html_text(out, t[i].label, 0);
        fputs("</text>\n", out);
    }
    fprintf(out, "<text class=\"axis-title\" x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">",
            (x0 + x1) / 2, y1 + 38);
    scr_html_text(out, title, 0);
    fputs("</text>\n</g>\n", out);
}

/* ------------------------------------------------------------------ series and legend */

void scr_svg_line(FILE *out, const struct scr_svg_plot *p, const double *y, size_t n,
                  size_t color, const char *label)
{
    double x0 = plot_x0(p), x1 = plot_x1(p), y0 = plot_y0(p), y1 = plot_y1(p);
    double band = n ? (x1 - x0) / (double)n : 0;

    fprintf(out,
            "<polyline class=\"series\" fill=\"none\" stroke=\"%s\" stroke-width=\"2\" "
            "stroke-linejoin=\"round\" stroke-dasharray=\"%s\" data-series=\"",
            scr_svg_color(color), scr_svg_dash(color));
    scr_html_text(out, label, 0);
    fputs("\" points=\"", out);
    for (size_t i = 0; i < n; i++)
        fprintf(out, "%s%.1f,%.1f", i ? " " : "", x0 + (i + 0.5) * band,
                y1 - (y[i] / p->vmax) * (y1 - y0));
    fputs("\"><title>", out);
    scr_html_text(out, label, 0);
    fputs("</title></polyline>\n", out);
    if (n == 1)
        fprintf(out, "<circle class=\"dot\" cx=\"%.1f\" cy=\"%.1f\" r=\"4\" fill=\"%s\"/>\n",
                x0 + 0.5 * band, y1 - (y[0] / p->vmax) * (y1 - y0), scr_svg_color(color));
}

int scr_svg_legend_height(size_t n, int columns)
{
    size_t rows = columns > 0 ? (n + (size_t)columns - 1) / (size_t)columns : n;
    return LEGEND_GAP + (int)rows * LEGEND_ROW + 8;
}

void scr_svg_legend(FILE *out, const struct scr_svg_plot *p, const char *const *labels,
                    size_t n, int columns)
{
    double x0 = plot_x0(p), x1 = plot_x1(p), y1 = plot_y1(p), colw;

    if (columns < 1)
        columns = 1;
    colw = (x1 - x0) / columns;
    fputs("<g class=\"legend\">\n", out);
    for (size_t i = 0; i < n; i++) {
        double x = x0 + (double)(i % (size_t)columns) * colw;
        double y = y1 + LEGEND_GAP + (double)(i / (size_t)columns) * LEGEND_ROW;
        fprintf(out,
                "<g class=\"key\"><line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" "
                "stroke=\"%s\" stroke-width=\"3\" stroke-dasharray=\"%s\"/>",
                x, y - 4, x + 20, y - 4, scr_svg_color(i), scr_svg_dash(i));
        fprintf(out, "<text class=\"label\" x=\"%.1f\" y=\"%.1f\">", x + 26, y);
        scr_html_text(out, labels[i], (size_t)((colw - 34) / CHAR_PX));
        fputs("</text></g>\n", out);
    }
    fputs("</g>\n", out);
}

/* ------------------------------------------------------------------ bars */

/* <rect class="CLS"> with a <title> "LABEL: TEXT" (the tooltip) and its fill. */
static void bar_rect(FILE *out, const char *cls, double x, double y, double w, double h,
                     const char *fill, const char *opacity, const struct scr_svg_bar *b)
{
    fprintf(out,
            "<rect class=\"%s\" x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"%s\""
            " fill-opacity=\"%s\"><title>",
            cls, x, y, w, h, fill, opacity);
    scr_html_text(out, b->label, 0);
    fputs(": ", out);
    if (b->text)
        scr_html_text(out, b->text, 0);
    else
        put_value(out, b->value);
    fputs("</title></rect>\n", out);
}

/* The text at the end of a bar: the caller's, or the value. */
static void bar_text(FILE *out, const struct scr_svg_bar *b)
{
    if (b->text)
        scr_html_text(out, b->text, 0);
    else
        put_value(out, b->value);
}

void scr_svg_vbars(FILE *out, const struct scr_svg_plot *p, const struct scr_svg_bar *b,
                   size_t n)
{
    double x0 = plot_x0(p), x1 = plot_x1(p), y0 = plot_y0(p), y1 = plot_y1(p);
    double band = n ? (x1 - x0) / (double)n : 0, w = fmin(band * 0.7, 80);
    size_t chars = band / CHAR_PX > 4 ? (size_t)(band / CHAR_PX) : 4;

    fputs("<g class=\"bars\">\n", out);
    for (size_t i = 0; i < n; i++) {
        double h = (b[i].value / p->vmax) * (y1 - y0), cx = x0 + (i + 0.5) * band;
        bar_rect(out, "bar", cx - w / 2, y1 - h, w, h, b[i].fill, "1", &b[i]);
        fprintf(out, "<text class=\"value\" x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">", cx,
                y1 - h - 5);
        bar_text(out, &b[i]);
        fprintf(out, "</text><text class=\"label\" x=\"%.1f\" y=\"%.1f\" "
                     "text-anchor=\"middle\">", cx, y1 + 18);
        scr_html_text(out, b[i].label, chars < 32 ? chars : 32);
        fputs("</text>\n", out);
    }
    fprintf(out, "<line class=\"axis-line\" x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\"/>\n",
            x0, y1, x1, y1);
    fputs("</g>\n", out);
}

/* The value axis of a horizontal chart: vertical gridlines, values under the plot. */
static void hbars_axis(FILE *out, const struct scr_svg_plot *p, const char *unit)
{
    double x0 = plot_x0(p), x1 = plot_x1(p), y0 = plot_y0(p), y1 = plot_y1(p);
    int lines = grid_lines(p);

    fputs("<g class=\"axis x-axis\">\n", out);
    for (int k = 0; k <= lines; k++) {
        double v = k * p->vstep, x = x0 + (v / p->vmax) * (x1 - x0);
        fprintf(out, "<line class=\"grid\" x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\"/>",
                x, y0, x, y1);
        fprintf(out, "<text class=\"tick\" x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">", x,
                y1 + 16);
        put_value(out, v);
        if (k == lines && unit) {
            fputc(' ', out);
            scr_html_text(out, unit, 0);
        }
        fputs("</text>\n", out);
    }
    fprintf(out, "<line class=\"axis-line\" x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\"/>\n",
            x0, y0, x0, y1);
    fputs("</g>\n", out);
}

void scr_svg_hbars(FILE *out, const struct scr_svg_plot *p, const struct scr_svg_bar *b,
                   size_t n, const char *unit)
{
    double x0 = plot_x0(p), x1 = plot_x1(p), y0 = plot_y0(p), y1 = plot_y1(p);
    double row = n ? (y1 - y0) / (double)n : 0, h = fmin(row * 0.7, 22);
    size_t chars = (size_t)((p->left - 14) / CHAR_PX);

    hbars_axis(out, p, unit);
    fputs("<g class=\"bars\">\n", out);
    for (size_t i = 0; i < n; i++) {
        double cy = y0 + (i + 0.5) * row, w = (b[i].value / p->vmax) * (x1 - x0);
        bar_rect(out, "bar", x0, cy - h / 2, w, h, b[i].fill, b[i].inner >= 0 ? "0.4" : "1",
                 &b[i]);
        if (b[i].inner >= 0)
            bar_rect(out, "bar-inner", x0, cy - h / 2, (b[i].inner / p->vmax) * (x1 - x0), h,
                     b[i].fill, "1", &b[i]);
        fprintf(out, "<text class=\"label\" x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\">", x0 - 8,
                cy + 4);
        scr_html_text(out, b[i].label, chars > 4 ? chars : 4);
        fprintf(out, "</text><text class=\"value\" x=\"%.1f\" y=\"%.1f\">", x0 + w + 6, cy + 4);
        bar_text(out, &b[i]);
        fputs("</text>\n", out);
    }
    fputs("</g>\n", out);
}
