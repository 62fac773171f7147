/**
 * One notification of an alarm as the API, the UI and the PDF show it: the
 * type derived from the Alarm schema's notifications (dashboard/common/api-schemas.ts).
 */
export type { NotificationWire as NotificationView } from '../common/api-schemas.ts'
