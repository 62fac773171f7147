/** The API speaks centi-degrees (integers, as the loggers sign them); the pages show °C. Null where the server has no value. */
export const centiToC = (centi: number | null | undefined): number | null =>
  typeof centi === 'number' ? centi / 100 : null
