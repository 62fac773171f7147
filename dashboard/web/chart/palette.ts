/** The chart's colours, in one place so lines, bands and markers stay apart. */

/** Okabe–Ito colours (vermillion is kept for excursions and alarms), each with its own dash so lines differ without colour. */
export const SENSOR_STYLES: { color: string; dash: number[] }[] = [
  { color: '#0072b2', dash: [] },
  { color: '#e69f00', dash: [6, 3] },
  { color: '#009e73', dash: [2, 2] },
  { color: '#cc79a7', dash: [8, 3, 2, 3] },
  { color: '#56b4e9', dash: [] },
  { color: '#000000', dash: [4, 4] },
]
export const BAND_FILL = 'rgba(0, 158, 115, 0.10)'
export const BAND_LINE = 'rgba(0, 128, 92, 0.55)'
export const EXCURSION_FILL = 'rgba(213, 94, 0, 0.14)'
export const ALARM_COLOR = '#c2410c'
export const GAP_FILL = 'rgba(107, 118, 132, 0.10)'
export const LATE_COLOR = '#6a3d8f'
export const FAULT_COLOR = 'rgba(200, 30, 30, 0.75)'
export const SELECT_FILL = 'rgba(11, 92, 173, 0.12)'
export const SELECT_LINE = 'rgba(11, 92, 173, 0.7)'
export const GRID_COLOR = '#eef1f5'
export const TICK_COLOR = '#4a5565'
