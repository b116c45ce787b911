package dev.kiri.runtime.chat;

import java.time.DayOfWeek;
import java.time.LocalDateTime;
import java.time.temporal.IsoFields;

/**
 * Python's {@code datetime.strftime} in the C locale, for templates' {@code strftime_now(format)}
 * (Llama 3.x writes {@code "%d %b %Y"}). Supports the C89/POSIX directives and glibc's
 * {@code %-d}-style flags that drop the padding; an unknown directive is copied as it is, as glibc does.
 */
final class Strftime {
    private static final String[] DAYS = {"Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"};
    private static final String[] MONTHS = {"January", "February", "March", "April", "May", "June", "July",
            "August", "September", "October", "November", "December"};

    private Strftime() {
    }

    static String format(String fmt, LocalDateTime t) {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < fmt.length(); i++) {
            char c = fmt.charAt(i);
            if (c != '%' || i + 1 >= fmt.length()) {
                sb.append(c);
                continue;
            }
            char d = fmt.charAt(++i);
            boolean noPad = false;
            if ((d == '-') && i + 1 < fmt.length()) {
                noPad = true;
                d = fmt.charAt(++i);
            }
            if (!directive(sb, d, noPad, t)) {
                sb.append('%');
                if (noPad) sb.append('-');
                sb.append(d);
            }
        }
        return sb.toString();
    }

    private static boolean directive(StringBuilder sb, char d, boolean noPad, LocalDateTime t) {
        DayOfWeek dow = t.getDayOfWeek();
        int hour12 = t.getHour() % 12 == 0 ? 12 : t.getHour() % 12;
        switch (d) {
            case 'a' -> sb.append(DAYS[dow.ordinal()], 0, 3);
            case 'A' -> sb.append(DAYS[dow.ordinal()]);
            case 'w' -> sb.append(dow.getValue() % 7);
            case 'u' -> sb.append(dow.getValue());
            case 'd' -> num(sb, t.getDayOfMonth(), 2, noPad, '0');
            case 'e' -> num(sb, t.getDayOfMonth(), 2, noPad, ' ');
            case 'b', 'h' -> sb.append(MONTHS[t.getMonthValue() - 1], 0, 3);
            case 'B' -> sb.append(MONTHS[t.getMonthValue() - 1]);
            case 'm' -> num(sb, t.getMonthValue(), 2, noPad, '0');
            case 'y' -> num(sb, t.getYear() % 100, 2, noPad, '0');
            case 'Y' -> sb.append(t.getYear());
            case 'C' -> num(sb, t.getYear() / 100, 2, noPad, '0');
            case 'H' -> num(sb, t.getHour(), 2, noPad, '0');
            case 'k' -> num(sb, t.getHour(), 2, noPad, ' ');
            case 'I' -> num(sb, hour12, 2, noPad, '0');
            case 'l' -> num(sb, hour12, 2, noPad, ' ');
            case 'p' -> sb.append(t.getHour() < 12 ? "AM" : "PM");
            case 'M' -> num(sb, t.getMinute(), 2, noPad, '0');
            case 'S' -> num(sb, t.getSecond(), 2, noPad, '0');
            case 'f' -> num(sb, t.getNano() / 1000, 6, noPad, '0');
            case 'j' -> num(sb, t.getDayOfYear(), 3, noPad, '0');
            case 'U' -> num(sb, (t.getDayOfYear() + 6 - (dow.getValue() % 7)) / 7, 2, noPad, '0');
            case 'W' -> num(sb, (t.getDayOfYear() + 6 - ((dow.getValue() + 6) % 7)) / 7, 2, noPad, '0');
            case 'V' -> num(sb, t.get(IsoFields.WEEK_OF_WEEK_BASED_YEAR), 2, noPad, '0');
            case 'G' -> sb.append(t.get(IsoFields.WEEK_BASED_YEAR));
            case 'z', 'Z' -> { } // a naive clock: Python prints nothing
            case 'c' -> sb.append(format("%a %b %e %H:%M:%S %Y", t));
            case 'x' -> sb.append(format("%m/%d/%y", t));
            case 'X' -> sb.append(format("%H:%M:%S", t));
            case 'D' -> sb.append(format("%m/%d/%y", t));
            case 'F' -> sb.append(format("%Y-%m-%d", t));
            case 'T' -> sb.append(format("%H:%M:%S", t));
            case 'R' -> sb.append(format("%H:%M", t));
            case 'r' -> sb.append(format("%I:%M:%S %p", t));
            case 's' -> sb.append(t.toEpochSecond(java.time.ZoneOffset.UTC));
            case 'n' -> sb.append('\n');
            case 't' -> sb.append('\t');
            case '%' -> sb.append('%');
            default -> {
                return false;
            }
        }
        return true;
    }

    private static void num(StringBuilder sb, long v, int width, boolean noPad, char pad) {
        String s = Long.toString(v);
        if (!noPad) for (int i = s.length(); i < width; i++) sb.append(pad);
        sb.append(s);
    }

}
