"""Conversations (list, open, rename, rescope, delete) and feedback on answers."""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter, Depends, HTTPException
from pydantic import BaseModel, Field
from sqlalchemy import select
from sqlalchemy.orm import Session

from assistant.web.auth import Principal
from assistant.web.db import Conversation, Feedback, Message, utcnow
from assistant.web.deps import DB, api_user, audit, denied

router = APIRouter(tags=["대화"])


class ConversationIn(BaseModel):
    title: str = Field("새 대화", min_length=1, max_length=200)
    mode: Literal["ask", "summarize", "draft"] = "ask"
    index: str = ""
    doc_ids: list[str] = Field(default_factory=list)


class ConversationPatch(BaseModel):
    title: str | None = Field(None, min_length=1, max_length=200)
    index: str | None = None
    doc_ids: list[str] | None = None


class FeedbackIn(BaseModel):
    rating: Literal[1, -1]
    comment: str = Field("", max_length=2000)


def conversation_json(c: Conversation) -> dict[str, Any]:
    return {"id": c.id, "title": c.title, "mode": c.mode, "index": c.index_name, "doc_ids": c.doc_ids,
            "updated_at": c.updated_at.isoformat()}


def _own(db: Session, user: Principal, conv_id: int) -> Conversation:
    conv = db.get(Conversation, conv_id)
    if conv is None or conv.user_id != user.id:
        if conv is not None:  # someone else's conversation (administrators included): on record
            raise denied(db, user, "conversation", 404, "대화를 찾을 수 없습니다.",
                         detail=f"다른 사용자의 대화 #{conv_id}")
        raise HTTPException(404, "대화를 찾을 수 없습니다.")
    return conv


@router.get("/api/conversations", summary="내 대화 목록")
def list_conversations(user: Principal = Depends(api_user), db: Session = DB) -> dict[str, Any]:
    rows = db.scalars(select(Conversation).where(Conversation.user_id == user.id)
                      .order_by(Conversation.updated_at.desc()).limit(200)).all()
    return {"conversations": [conversation_json(c) for c in rows]}


@router.post("/api/conversations", summary="새 대화")
def create_conversation(body: ConversationIn, user: Principal = Depends(api_user),
                        db: Session = DB) -> dict[str, Any]:
    conv = Conversation(user_id=user.id, title=body.title.strip(), mode=body.mode, index_name=body.index,
                        doc_ids=body.doc_ids)
    db.add(conv)
    db.flush()
    return conversation_json(conv)


@router.get("/api/conversations/{conv_id}", summary="대화 내용")
def get_conversation(conv_id: int, user: Principal = Depends(api_user),
                     db: Session = DB) -> dict[str, Any]:
    conv = _own(db, user, conv_id)
    msgs = db.scalars(select(Message).where(Message.conversation_id == conv.id).order_by(Message.id)).all()
    rated = {f.message_id: f.rating for f in db.scalars(
        select(Feedback).where(Feedback.user_id == user.id, Feedback.message_id.in_([m.id for m in msgs])))}
    return {**conversation_json(conv), "messages": [
        {"id": m.id, "role": m.role, "mode": m.mode, "content": m.content, "citations": m.citations,
         "abstained": m.abstained, "rating": rated.get(m.id), "created_at": m.created_at.isoformat()} for m in msgs]}


@router.patch("/api/conversations/{conv_id}", summary="대화 이름·범위 바꾸기")
def patch_conversation(conv_id: int, body: ConversationPatch, user: Principal = Depends(api_user),
                       db: Session = DB) -> dict[str, Any]:
    conv = _own(db, user, conv_id)
    if body.title is not None:
        conv.title = body.title.strip() or conv.title
    if body.index is not None:
        conv.index_name = body.index
    if body.doc_ids is not None:
        conv.doc_ids = body.doc_ids
    conv.updated_at = utcnow()
    return conversation_json(conv)


@router.delete("/api/conversations/{conv_id}", summary="대화 삭제")
def delete_conversation(conv_id: int, user: Principal = Depends(api_user),
                        db: Session = DB) -> dict[str, Any]:
    conv = _own(db, user, conv_id)
    db.delete(conv)
    return {"deleted": conv_id}


@router.post("/api/messages/{message_id}/feedback", summary="답변 평가 (👍/👎, 의견)")
def give_feedback(message_id: int, body: FeedbackIn, user: Principal = Depends(api_user),
                  db: Session = DB) -> dict[str, Any]:
    msg = db.get(Message, message_id)
    if msg is None or msg.role != "assistant":
        raise HTTPException(404, "평가할 답변을 찾을 수 없습니다.")
    _own(db, user, msg.conversation_id)
    row = db.scalar(select(Feedback).where(Feedback.message_id == message_id, Feedback.user_id == user.id))
    if row is None:
        row = Feedback(message_id=message_id, user_id=user.id, rating=body.rating, comment=body.comment)
        db.add(row)
    else:
        row.rating, row.comment, row.created_at = body.rating, body.comment, utcnow()
    audit(db, user, "feedback", "", [c.get("doc_id", "") for c in msg.citations], f"{body.rating:+d} {body.comment}")
    return {"message_id": message_id, "rating": body.rating}
