/*
 * order_key.h — ORDER BY on index columns (order_key.c).
 */
#ifndef FRAISEQL_WIRE_ORDER_KEY_H
#define FRAISEQL_WIRE_ORDER_KEY_H

/* Installs the planner hook that orders by index columns; called once
 * from _PG_init. */
extern void fw_order_init(void);

#endif							/* FRAISEQL_WIRE_ORDER_KEY_H */
