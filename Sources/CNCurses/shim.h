#ifndef PERFTOP_CNCURSES_SHIM_H
#define PERFTOP_CNCURSES_SHIM_H
#define NCURSES_WIDECHAR 1
#ifndef _XOPEN_SOURCE_EXTENDED
#define _XOPEN_SOURCE_EXTENDED 1
#endif
#include <ncursesw/curses.h>
#include <locale.h>
#include <stdio.h>

/* Swift cannot import curses' function-like macros or its mutable globals under strict
   concurrency, and their values must never be hard-coded: these wrappers expose them. */

static inline WINDOW *perftop_stdscr(void) { return stdscr; }
static inline int perftop_lines(void) { return LINES; }
static inline int perftop_cols(void) { return COLS; }
static inline int perftop_colors(void) { return COLORS; }
static inline int perftop_color_pairs(void) { return COLOR_PAIRS; }
static inline int perftop_key_resize(void) { return KEY_RESIZE; }
static inline int perftop_ok(void) { return OK; }
static inline int perftop_err(void) { return ERR; }
static inline int perftop_key_code_yes(void) { return KEY_CODE_YES; }

static inline void perftop_size(WINDOW *w, int *h, int *wd) {
    int y = 0, x = 0;
    getmaxyx(w, y, x);
    *h = y; *wd = x;
}

/* Sets the window's attributes from role flags and a colour pair (0 = none). */
static inline int perftop_style(WINDOW *w, int bold, int reverse, int underline, int dim, int pair) {
    attr_t a = A_NORMAL;
    if (bold) a |= A_BOLD;
    if (reverse) a |= A_REVERSE;
    if (underline) a |= A_UNDERLINE;
    if (dim) a |= A_DIM;
    return wattr_set(w, a, (short)pair, NULL);
}

static inline int perftop_put(WINDOW *w, int y, int x, const char *s) { return mvwaddstr(w, y, x, s); }

static inline int perftop_key(int code) {
    switch (code) {
    case 0: return KEY_UP;
    case 1: return KEY_DOWN;
    case 2: return KEY_LEFT;
    case 3: return KEY_RIGHT;
    case 4: return KEY_PPAGE;
    case 5: return KEY_NPAGE;
    case 6: return KEY_HOME;
    case 7: return KEY_END;
    case 8: return KEY_BACKSPACE;
    case 9: return KEY_DC;
    case 10: return KEY_BTAB;
    case 11: return KEY_ENTER;
    case 12: return KEY_F(1);
    }
    return -1;
}

static inline FILE *perftop_open_tty(void) { return fopen("/dev/tty", "r+"); }
static inline FILE *perftop_stdout_file(void) { return fdopen(1, "w"); }
static inline void perftop_set_locale(void) { setlocale(LC_ALL, ""); }

/* The mouse: button 1 presses and the wheel (buttons 4 and 5), reported at once (no click
   interval, so a press is never held back waiting for a release). */
static inline int perftop_key_mouse(void) { return KEY_MOUSE; }
static inline int perftop_mouse_enable(int on) {
    mouseinterval(0);
    mmask_t m = 0;
    if (on) {
        m = BUTTON1_PRESSED | BUTTON1_CLICKED | BUTTON4_PRESSED;
#ifdef BUTTON5_PRESSED
        m |= BUTTON5_PRESSED;
#endif
    }
    return mousemask(m, NULL) != 0;
}
/* 1 a button-1 press, 2 wheel up, 3 wheel down, 0 anything else. */
static inline int perftop_get_mouse(int *x, int *y) {
    MEVENT e;
    if (getmouse(&e) != OK) return 0;
    *x = e.x; *y = e.y;
    if (e.bstate & (BUTTON1_PRESSED | BUTTON1_CLICKED)) return 1;
    if (e.bstate & BUTTON4_PRESSED) return 2;
#ifdef BUTTON5_PRESSED
    if (e.bstate & BUTTON5_PRESSED) return 3;
#endif
    return 0;
}
#endif
