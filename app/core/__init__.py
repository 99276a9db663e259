"""The ground floor: text, phones, Jalali dates, words, clock, paths, errors, logs. Imports nothing from the rest of app/; models/ may use it."""
